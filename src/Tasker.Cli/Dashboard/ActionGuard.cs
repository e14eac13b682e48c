using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Tasker.Cli.Dashboard;

/// <summary>
/// Who may act. Without a configured token every action is refused (the dashboard is read-only). With one, each
/// action must carry it: the <c>X-Tasker-Token</c> header, <c>Authorization: Bearer</c>, or the form's <c>token</c>
/// field. Actions are POST only and the token never lives in a cookie, so another site cannot make a visitor's
/// browser act (no CSRF). Compared in constant time, over hashes so the length does not leak either.
/// </summary>
internal sealed class ActionGuard(string? token)
{
    public const string TokenVariable = "TASKER_DASHBOARD_TOKEN";
    private readonly byte[]? _expected = string.IsNullOrEmpty(token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public bool Enabled => _expected is not null;

    public bool Allows(string? presented)
    {
        if (_expected is null || string.IsNullOrEmpty(presented)) return false;
        return CryptographicOperations.FixedTimeEquals(_expected, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
    }

    public static string? Presented(HttpContext context, IFormCollection? form)
    {
        var request = context.Request;
        if (request.Headers.TryGetValue("X-Tasker-Token", out var header) && header.Count > 0) return header[0];
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return authorization["Bearer ".Length..].Trim();
        return form?["token"].ToString();
    }
}
