using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tasker.Cli.Commands;
using Tasker.Cli.Output;
using Tasker.Core;

namespace Tasker.Cli.Dashboard;

/// <summary>
/// The web dashboard: HTML pages for people and the same data as JSON under /api/ for programs (a Rails, FastAPI or
/// Express app can link to it or proxy it). ASP.NET Core's slim builder with plain request delegates: no reflection,
/// so it runs under NativeAOT. Every action is a POST that needs the access token (<see cref="ActionGuard"/>).
/// </summary>
internal sealed class DashboardServer : IAsyncDisposable
{
    private const int PageSize = 50;
    private readonly Session _session;
    private readonly ActionGuard _guard;
    private readonly WebApplication _app;

    private DashboardServer(Session session, ActionGuard guard, WebApplication app)
    {
        _session = session;
        _guard = guard;
        _app = app;
    }

    /// <summary>The address it listens on (with the real port when 0 was asked for).</summary>
    public string Address => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public static async Task<DashboardServer> StartAsync(Session session, string host, int port, string? token, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{host}:{port}");
        var app = builder.Build();
        var server = new DashboardServer(session, new ActionGuard(token), app);
        server.Map(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return server;
    }

    /// <summary>Returns on Ctrl+C (<paramref name="cancellationToken"/>) or SIGTERM (the host's lifetime stops the server).</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _app.Lifetime.ApplicationStopping);
        try
        {
            await Task.Delay(Timeout.Infinite, either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // asked to stop: the caller disposes the server
        }
    }

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = Html.Csp;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.CacheControl = "no-store";
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TaskerException or UsageException && !context.Response.HasStarted)
            {
                await Fail(context, e).ConfigureAwait(false);
            }
        });

        app.MapGet("/", ListPage);
        app.MapGet("/tasks/{uuid}", TaskPage);
        app.MapGet("/stale", StalePage);
        app.MapGet("/templates", TemplatesPage);
        app.MapPost("/tasks/{uuid}/{action}", FormAction);

        app.MapGet("/api/tasks", ApiTasks);
        app.MapGet("/api/tasks/{uuid}", ApiTask);
        app.MapGet("/api/stale", ApiStale);
        app.MapGet("/api/stats", ApiStats);
        app.MapGet("/api/templates", ApiTemplates);
        app.MapPost("/api/tasks/{uuid}/{action}", ApiAction);
    }

    // ---- pages ---------------------------------------------------------------------------------------------

    private async Task ListPage(HttpContext c)
    {
        var q = c.Request.Query;
        var page = Math.Max(1, int.TryParse(q["page"], out var p) ? p : 1);
        var filters = new Pages.ListFilters(Blank(q["state"]), Blank(q["namespace"]), Blank(q["name"]), Blank(q["older_than"]), Blank(q["newer_than"]), page, PageSize);
        var query = TasksCommand.Query(filters.State, filters.Namespace, filters.Name, filters.OlderThan, filters.NewerThan, PageSize, page);
        var tasks = await _session.Engine.ListTasksAsync(query, c.RequestAborted);
        var stats = await _session.Store.GetStatsAsync(c.RequestAborted);
        var work = await _session.Store.CountWorkAsync(DateTimeOffset.UtcNow, c.RequestAborted);
        var tables = await _session.Store.GetTableHealthAsync(c.RequestAborted);
        await HtmlAsync(c, "Tasks", Pages.TaskList(tasks, stats, work, tables, filters, DateTimeOffset.UtcNow));
    }

    private async Task TaskPage(HttpContext c)
    {
        var uuid = RouteUuid(c);
        var view = await _session.Engine.GetTaskAsync(uuid, includeTransitions: true, c.RequestAborted);
        var q = c.Request.Query;
        string? flash = Blank(q["done"]) is { } done ? $"{done}: done" : Blank(q["failed"]) is { } failed ? failed : null;
        await HtmlAsync(c, $"{view.Header.Name} {uuid}", Pages.Task(view, DateTimeOffset.UtcNow, _guard.Enabled, flash, q.ContainsKey("failed")));
    }

    private async Task StalePage(HttpContext c)
    {
        var thresholds = StaleCommand.Thresholds(Blank(c.Request.Query["unclaimed_after"]), Blank(c.Request.Query["pending_after"]));
        var stale = await _session.Engine.ListStaleWorkAsync(1000, thresholds, c.RequestAborted);
        await HtmlAsync(c, "Stale work", Pages.Stale(stale, thresholds, DateTimeOffset.UtcNow));
    }

    private async Task TemplatesPage(HttpContext c) =>
        await HtmlAsync(c, "Templates", Pages.Templates(await _session.Store.ListTemplatesAsync(c.RequestAborted)));

    /// <summary>A form POST: act, then redirect back to the task page (POST-redirect-GET) with the result.</summary>
    private async Task FormAction(HttpContext c)
    {
        var uuid = RouteUuid(c);
        var form = c.Request.HasFormContentType ? await c.Request.ReadFormAsync(c.RequestAborted) : null;
        var back = $"/tasks/{uuid}";
        if (!_guard.Allows(ActionGuard.Presented(c, form)))
        {
            c.Response.StatusCode = _guard.Enabled ? StatusCodes.Status403Forbidden : StatusCodes.Status403Forbidden;
            var why = _guard.Enabled ? "wrong or missing access token" : "actions are disabled: no access token is configured";
            await HtmlAsync(c, "Forbidden", $"<h1>Forbidden</h1><p>{Html.E(why)}</p><p><a href=\"{back}\">Back to the task</a></p>");
            return;
        }
        var action = (string)c.Request.RouteValues["action"]!;
        try
        {
            await ActAsync(uuid, action, Blank(form?["actor"]) ?? "dashboard", Blank(form?["reason"]), Blank(form?["step"]), Blank(form?["result"]), c.RequestAborted);
            c.Response.Redirect($"{back}?done={Uri.EscapeDataString(action)}", permanent: false);
        }
        catch (Exception e) when (e is TaskerException or UsageException)
        {
            c.Response.Redirect($"{back}?failed={Uri.EscapeDataString(e.Message)}", permanent: false);
        }
        c.Response.StatusCode = StatusCodes.Status303SeeOther;
    }

    private async Task<TaskOutcome> ActAsync(Guid uuid, string action, string actor, string? reason, string? step, string? result, CancellationToken token)
    {
        var engine = _session.Engine;
        return action switch
        {
            "retry" => await engine.RetryTaskAsync(uuid, actor, reason, token),
            "cancel" => await engine.CancelTaskAsync(uuid, actor, reason, token),
            "resolve" => await engine.ResolveStepAsync(uuid, step ?? throw new UsageException("resolve needs a step"),
                ActionCommands.ParseResult(result), actor, reason, token),
            _ => throw new UsageException($"unknown action '{action}' (retry, cancel, resolve)"),
        };
    }

    // ---- JSON API --------------------------------------------------------------------------------------------

    private async Task ApiTasks(HttpContext c)
    {
        var q = c.Request.Query;
        var page = Math.Max(1, int.TryParse(q["page"], out var p) ? p : 1);
        var limit = Math.Clamp(int.TryParse(q["limit"], out var l) ? l : PageSize, 1, 1000);
        var query = TasksCommand.Query(Blank(q["state"]), Blank(q["namespace"]), Blank(q["name"]), Blank(q["older_than"]), Blank(q["newer_than"]), limit, page);
        var tasks = await _session.Engine.ListTasksAsync(query, c.RequestAborted);
        await JsonAsync(c, w => JsonOut.Summaries(w, tasks, page, limit));
    }

    private async Task ApiTask(HttpContext c)
    {
        var view = await _session.Engine.GetTaskAsync(RouteUuid(c), includeTransitions: true, c.RequestAborted);
        await JsonAsync(c, w => JsonOut.Task(w, view, DateTimeOffset.UtcNow, StaleThresholds.Default.UnclaimedAfter));
    }

    private async Task ApiStale(HttpContext c)
    {
        var thresholds = StaleCommand.Thresholds(Blank(c.Request.Query["unclaimed_after"]), Blank(c.Request.Query["pending_after"]));
        var stale = await _session.Engine.ListStaleWorkAsync(1000, thresholds, c.RequestAborted);
        await JsonAsync(c, w => JsonOut.Stale(w, stale, thresholds));
    }

    private async Task ApiStats(HttpContext c)
    {
        var stats = await _session.Store.GetStatsAsync(c.RequestAborted);
        var work = await _session.Store.CountWorkAsync(DateTimeOffset.UtcNow, c.RequestAborted);
        var tables = await _session.Store.GetTableHealthAsync(c.RequestAborted);
        await JsonAsync(c, w => JsonOut.Stats(w, stats, work, tables));
    }

    private async Task ApiTemplates(HttpContext c)
    {
        var templates = await _session.Store.ListTemplatesAsync(c.RequestAborted);
        await JsonAsync(c, w => JsonOut.Templates(w, templates));
    }

    /// <summary>POST /api/tasks/{uuid}/{retry|cancel|resolve} with an optional JSON body {actor, reason, step, result}.</summary>
    private async Task ApiAction(HttpContext c)
    {
        if (!_guard.Allows(ActionGuard.Presented(c, null)))
        {
            c.Response.StatusCode = StatusCodes.Status403Forbidden;
            await JsonAsync(c, w => ErrorJson(w, _guard.Enabled ? "wrong or missing access token" : "actions are disabled: no access token is configured"));
            return;
        }
        string? actor = null, reason = null, step = null, result = null;
        if (c.Request.ContentLength is > 0 || c.Request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                using var body = await JsonDocument.ParseAsync(c.Request.Body, cancellationToken: c.RequestAborted);
                if (body.RootElement.ValueKind != JsonValueKind.Object) throw new UsageException("the body must be a JSON object");
                actor = Text(body.RootElement, "actor");
                reason = Text(body.RootElement, "reason");
                step = Text(body.RootElement, "step");
                result = body.RootElement.TryGetProperty("result", out var r) ? r.GetRawText() : null;
            }
            catch (JsonException e)
            {
                throw new UsageException("the body is not valid JSON: " + e.Message);
            }
        }
        var action = (string)c.Request.RouteValues["action"]!;
        var who = actor ?? "api";
        var outcome = await ActAsync(RouteUuid(c), action, who, reason, step, result, c.RequestAborted);
        await JsonAsync(c, w => JsonOut.Outcome(w, action, outcome, who, reason));
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private async Task HtmlAsync(HttpContext c, string title, string body)
    {
        c.Response.ContentType = "text/html; charset=utf-8";
        await c.Response.WriteAsync(Html.Page(title, body, _guard.Enabled), c.RequestAborted);
    }

    private static async Task JsonAsync(HttpContext c, Action<Utf8JsonWriter> write)
    {
        c.Response.ContentType = "application/json; charset=utf-8";
        await c.Response.WriteAsync(JsonOut.Render(write, indented: false), c.RequestAborted);
    }

    private static void ErrorJson(Utf8JsonWriter w, string message, string? code = null)
    {
        w.WriteStartObject();
        w.WriteString("error", message);
        if (code is not null) w.WriteString("code", code);
        w.WriteEndObject();
    }

    /// <summary>A known failure as a status code: 404 not found, 409 invalid state or conflict, 400 bad input, 503 database.</summary>
    private async Task Fail(HttpContext c, Exception e)
    {
        var (status, code) = e switch
        {
            TaskerException { Code: TaskerErrorCode.NotFound } => (404, "not_found"),
            TaskerException { Code: TaskerErrorCode.InvalidState or TaskerErrorCode.Conflict } => (409, "invalid_state"),
            TaskerException { Code: TaskerErrorCode.Database or TaskerErrorCode.Timeout } => (503, "database"),
            TaskerException { Code: TaskerErrorCode.InvalidArgument } or UsageException => (400, "invalid_argument"),
            _ => (500, "internal"),
        };
        var message = Tasker.Postgres.PostgresConnectionString.Mask(e.Message);
        c.Response.StatusCode = status;
        if (c.Request.Path.StartsWithSegments("/api"))
            await JsonAsync(c, w => ErrorJson(w, message, code));
        else
            await HtmlAsync(c, "Error", status == 404 ? Pages.NotFound(message) : $"<h1>Error</h1><p class=\"err\">{Html.E(message)}</p>");
    }

    private static Guid RouteUuid(HttpContext c) =>
        Guid.TryParse(c.Request.RouteValues["uuid"] as string, out var uuid) ? uuid : throw new TaskerException(TaskerErrorCode.NotFound, $"task not found: {c.Request.RouteValues["uuid"]}");

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    private static string? Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
