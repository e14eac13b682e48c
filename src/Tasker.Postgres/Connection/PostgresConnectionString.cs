using Tasker.Core;

using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace Tasker.Postgres;

/// <summary>
/// Accepts both forms users have at hand — Npgsql key/value strings and the <c>postgres://</c> URLs that Heroku,
/// Rails (<c>DATABASE_URL</c>), Celery and most PaaS hand out — and produces masked forms for messages.
/// </summary>
public static partial class PostgresConnectionString
{
    /// <summary>Returns an Npgsql connection string for either form.</summary>
    public static string Normalize(string connectionStringOrUrl)
    {
        ArgumentNullException.ThrowIfNull(connectionStringOrUrl);
        var text = connectionStringOrUrl.Trim();
        return IsUrl(text) ? FromUrl(text) : text;
    }

    public static bool IsUrl(string text) =>
        text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ||
        text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Converts <c>postgres[ql]://[user[:password]@][host][:port][/database][?param=value&amp;...]</c>. Query parameters
    /// use libpq names (<c>sslmode</c>, <c>application_name</c>, <c>connect_timeout</c>, ...) or Npgsql keywords.
    /// </summary>
    public static string FromUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !IsUrl(url))
            throw new TaskerException(TaskerErrorCode.InvalidArgument, "database URL is not a valid postgres:// URL: " + Mask(url),
                new Dictionary<string, string> { ["field"] = "database_url" });

        var builder = new NpgsqlConnectionStringBuilder();
        if (uri.Host.Length > 0)
            builder.Host = uri.Host.Trim('[', ']');
        if (!uri.IsDefaultPort && uri.Port > 0)
            builder.Port = uri.Port;
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
            builder.Database = database;

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' '));
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            Apply(builder, key, value);
        }
        return builder.ConnectionString;
    }

    private static void Apply(NpgsqlConnectionStringBuilder builder, string key, string value)
    {
        switch (key.ToLowerInvariant())
        {
            case "sslmode":
                builder.SslMode = value.ToLowerInvariant() switch
                {
                    "disable" => SslMode.Disable,
                    "allow" => SslMode.Allow,
                    "prefer" => SslMode.Prefer,
                    "require" => SslMode.Require,
                    "verify-ca" => SslMode.VerifyCA,
                    "verify-full" => SslMode.VerifyFull,
                    _ => throw new TaskerException(TaskerErrorCode.InvalidArgument, $"unknown sslmode '{value}' in database URL",
                        new Dictionary<string, string> { ["field"] = "database_url" }),
                };
                break;
            case "application_name":
                builder.ApplicationName = value;
                break;
            case "connect_timeout":
                builder.Timeout = int.Parse(value, CultureInfo.InvariantCulture);
                break;
            case "host":
                builder.Host = value; // a Unix socket directory: postgres:///db?host=/var/run/postgresql
                break;
            case "port":
                builder.Port = int.Parse(value, CultureInfo.InvariantCulture);
                break;
            case "user":
                builder.Username = value;
                break;
            case "password":
                builder.Password = value;
                break;
            case "dbname":
                builder.Database = value;
                break;
            case "options":
                builder.Options = value;
                break;
            default:
                try
                {
                    builder[key] = value; // any Npgsql keyword, e.g. "Maximum Pool Size"
                }
                catch (ArgumentException)
                {
                    throw new TaskerException(TaskerErrorCode.InvalidArgument, $"unknown parameter '{key}' in database URL",
                        new Dictionary<string, string> { ["field"] = "database_url", ["parameter"] = key });
                }
                break;
        }
    }

    /// <summary>The same text with any password replaced by <c>***</c>; safe for logs and error messages.</summary>
    public static string Mask(string? connectionStringOrUrl)
    {
        if (string.IsNullOrEmpty(connectionStringOrUrl)) return "";
        var masked = UrlPassword().Replace(connectionStringOrUrl, "${prefix}***@");
        masked = QueryPassword().Replace(masked, "${key}=***");
        return KeyValuePassword().Replace(masked, "${key}=***");
    }

    /// <summary>Masks <paramref name="message"/> and removes <paramref name="password"/> from it, wherever it appears.</summary>
    internal static string Scrub(string message, string? password)
    {
        var scrubbed = Mask(message);
        return string.IsNullOrEmpty(password) || password.Length < 3 ? scrubbed : scrubbed.Replace(password, "***", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"(?<prefix>postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@", RegexOptions.IgnoreCase)]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"(?<key>[?&]password)=[^&\s]*", RegexOptions.IgnoreCase)]
    private static partial Regex QueryPassword();

    [GeneratedRegex(@"(?<key>(?:^|;)\s*(?:password|pwd)\s*)=(?:'[^']*'|""[^""]*""|[^;]*)", RegexOptions.IgnoreCase)]
    private static partial Regex KeyValuePassword();
}
