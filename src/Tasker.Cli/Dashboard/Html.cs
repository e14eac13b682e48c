using System.Text;
using System.Text.Encodings.Web;

namespace Tasker.Cli.Dashboard;

/// <summary>
/// Page building. Every piece of user data (contexts, results, errors, names, reasons) goes through <see cref="E"/>;
/// pages carry no script at all, and the Content-Security-Policy forbids any, so even a missed escape cannot run.
/// </summary>
internal static class Html
{
    public static string E(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    /// <summary>For query strings inside href attributes.</summary>
    public static string Q(string? text) => UrlEncoder.Default.Encode(text ?? "");

    public const string Csp = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static string Page(string title, string body, bool actionsEnabled)
    {
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append(" · Tasker</title>");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>").Append(Style).Append("</style></head><body>");
        sb.Append("<header><a class=\"brand\" href=\"/\">Tasker</a><nav><a href=\"/\">Tasks</a><a href=\"/stale\">Stale work</a><a href=\"/templates\">Templates</a>");
        sb.Append("<a href=\"/api/stats\">API</a></nav><span class=\"mode\">")
          .Append(actionsEnabled ? "actions enabled (token required)" : "read-only: start with --token to enable actions").Append("</span></header><main>");
        sb.Append(body);
        sb.Append("</main></body></html>");
        return sb.ToString();
    }

    public static string State(string state) => $"<span class=\"state s-{E(state)}\">{E(state)}</span>";

    private const string Style = """
        body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1c2733;background:#f5f7fa}
        header{display:flex;gap:24px;align-items:center;padding:10px 20px;background:#1c2733;color:#fff}
        header a{color:#cfe3ff;text-decoration:none;margin-right:14px}.brand{font-weight:700;color:#fff!important}
        .mode{margin-left:auto;font-size:12px;color:#9fb3c8}
        main{padding:16px 24px;max-width:1300px}
        table{border-collapse:collapse;background:#fff;margin:8px 0 18px;width:100%}
        th,td{padding:5px 9px;border-bottom:1px solid #e3e8ee;text-align:left;vertical-align:top}
        th{background:#eef2f6;font-weight:600}
        code,pre{font:12px/1.4 ui-monospace,monospace}pre{background:#fff;border:1px solid #e3e8ee;padding:8px;overflow:auto;max-height:320px}
        .state{padding:1px 7px;border-radius:9px;color:#fff;font-size:12px;background:#90a4ae;white-space:nowrap}
        .s-complete{background:#2e7d32}.s-error{background:#c62828}.s-in_progress{background:#0277bd}
        .s-waiting_for_retry{background:#f9a825;color:#222}.s-resolved_manually{background:#6a1b9a}.s-cancelled{background:#757575}
        .counts a{margin-right:10px;text-decoration:none}.why{color:#8a5a00}.err{color:#c62828}
        form.inline{display:inline-block;margin:0 10px 6px 0}input,select,button{font:inherit;padding:3px 6px}
        button{cursor:pointer}button[disabled]{cursor:not-allowed;opacity:.5}
        .flash{background:#e8f5e9;border:1px solid #a5d6a7;padding:8px 12px;margin-bottom:12px}
        .flash.bad{background:#ffebee;border-color:#ef9a9a}.muted{color:#66788a}
        """;
}
