using System.Text;
using Tasker.Cli.Diagnosis;
using Tasker.Cli.Output;
using Tasker.Core;
using Tasker.Core.Storage;
using Tasker.Postgres;
using Tasker.Postgres.Queries;
using static Tasker.Cli.Dashboard.Html;

namespace Tasker.Cli.Dashboard;

/// <summary>The dashboard's HTML pages. Pure functions of the data: the server fetches, these render.</summary>
internal static class Pages
{
    public sealed record ListFilters(string? State, string? Namespace, string? Name, string? OlderThan, string? NewerThan, int Page, int Limit);

    public static string TaskList(IReadOnlyList<TaskSummary> tasks, StoreStats stats, WorkCounts work, IReadOnlyList<TableHealth> tables,
        ListFilters f, DateTimeOffset now)
    {
        var sb = new StringBuilder("<h1>Tasks</h1>");
        foreach (var advice in tables.Select(VacuumAdvice.For).OfType<string>())
            sb.Append($"<div class=\"flash bad\" id=\"vacuum\">{E(advice)}</div>");
        sb.Append("<p class=\"counts\">");
        sb.Append($"<a href=\"/\">all ({stats.TasksByState.Values.Sum()})</a>");
        foreach (var state in Enum.GetValues<TaskState>().Select(s => s.ToWire()))
            sb.Append($"<a href=\"/?state={Q(state)}\">{State(state)} {stats.TasksByState.GetValueOrDefault(state)}</a>");
        sb.Append("</p>");
        ReadyByHandler(sb, work);
        sb.Append("<form method=\"get\" action=\"/\" class=\"filters\">");
        sb.Append("<select name=\"state\"><option value=\"\">any state</option>");
        foreach (var state in Enum.GetValues<TaskState>().Select(s => s.ToWire()))
            sb.Append($"<option value=\"{state}\"{(state == f.State ? " selected" : "")}>{state}</option>");
        sb.Append("</select> ");
        sb.Append($"<input name=\"namespace\" placeholder=\"namespace\" value=\"{E(f.Namespace)}\"> ");
        sb.Append($"<input name=\"name\" placeholder=\"name\" value=\"{E(f.Name)}\"> ");
        sb.Append($"<input name=\"older_than\" placeholder=\"older than (e.g. 1h)\" size=\"14\" value=\"{E(f.OlderThan)}\"> ");
        sb.Append($"<input name=\"newer_than\" placeholder=\"newer than (e.g. 15m)\" size=\"14\" value=\"{E(f.NewerThan)}\"> ");
        sb.Append("<button type=\"submit\">Filter</button></form>");
        if (tasks.Count == 0)
            sb.Append("<p class=\"muted\">No tasks match.</p>");
        else
        {
            sb.Append("<table id=\"tasks\"><tr><th>Task</th><th>Namespace/name</th><th>Version</th><th>State</th><th>Created</th><th>Updated</th></tr>");
            foreach (var t in tasks)
                sb.Append($"<tr><td><a href=\"/tasks/{t.TaskUuid}\"><code>{t.TaskUuid}</code></a></td><td>{E(t.Namespace)}/{E(t.Name)}</td><td>{E(t.Version)}</td>")
                  .Append($"<td>{State(t.State.ToWire())}</td><td title=\"{Format.Time(t.CreatedAt)}\">{Format.Age(t.CreatedAt, now)}</td><td>{Format.Age(t.UpdatedAt, now)}</td></tr>");
            sb.Append("</table>");
        }
        var query = $"state={Q(f.State)}&namespace={Q(f.Namespace)}&name={Q(f.Name)}&older_than={Q(f.OlderThan)}&newer_than={Q(f.NewerThan)}";
        if (f.Page > 1) sb.Append($"<a href=\"/?{query}&page={f.Page - 1}\">← newer</a> ");
        sb.Append($"<span class=\"muted\">page {f.Page}</span>");
        if (tasks.Count == f.Limit) sb.Append($" <a href=\"/?{query}&page={f.Page + 1}\">older →</a>");
        return sb.ToString();
    }

    /// <summary>
    /// Ready steps nobody holds, by the handler they wait for (most first): in worker mode, a handler no running worker
    /// has shows here before its work counts as stale.
    /// </summary>
    private static void ReadyByHandler(StringBuilder sb, WorkCounts work)
    {
        if (work.ReadyStepsByHandler.Count == 0) return;
        sb.Append("<p class=\"counts\" id=\"ready\">ready steps nobody holds: ");
        sb.AppendJoin(", ", work.ReadyStepsByHandler.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"<code>{E(p.Key)}</code> {p.Value}"));
        sb.Append("</p>");
    }

    public static string Task(TaskView task, DateTimeOffset now, bool actionsEnabled, string? flash, bool flashBad)
    {
        var h = task.Header;
        var sb = new StringBuilder();
        if (flash is not null) sb.Append($"<div class=\"flash{(flashBad ? " bad" : "")}\" id=\"flash\">{E(flash)}</div>");
        sb.Append($"<h1>{E(h.Namespace)}/{E(h.Name)} <small class=\"muted\">{E(h.Version)}</small> <span id=\"task-state\">{State(h.State.ToWire())}</span></h1>");
        sb.Append($"<p><code>{h.Uuid}</code> · created {Format.Time(h.CreatedAt)} ({Format.Age(h.CreatedAt, now)}) · updated {Format.Age(h.UpdatedAt, now)}");
        if (h.FinishedAt is { } finished) sb.Append($" · finished {Format.Time(finished)}");
        sb.Append("</p><p>");
        foreach (var (label, value) in new[] { ("initiator", h.Initiator), ("source", h.SourceSystem), ("reason", h.Reason), ("correlation", h.CorrelationId) })
            if (value is not null) sb.Append($"<b>{label}</b> {E(value)} &nbsp; ");
        if (h.Tags.Count > 0) sb.Append($"<b>tags</b> {E(string.Join(", ", h.Tags))}");
        sb.Append("</p>");

        sb.Append(Actions(task, actionsEnabled));
        sb.Append("<h2>DAG</h2>").Append(DagSvg.Render(task));
        sb.Append("<h2>Steps</h2><table id=\"steps\"><tr><th>Step</th><th>Handler</th><th>State</th><th>Attempts</th><th>Started</th><th>Took</th><th>Why not running / last error</th></tr>");
        foreach (var s in task.Steps)
        {
            var why = WhyNotRunning.Explain(task, s, now, StaleThresholds.Default.UnclaimedAfter);
            var took = s.StartedAt is { } a && s.FinishedAt is { } b && b >= a ? Format.Duration(b - a) : "";
            sb.Append($"<tr id=\"step-{E(s.Name)}\"><td>{E(s.Name)}</td><td><code>{E(s.Handler)}</code></td><td>{State(s.State.ToWire())}</td>")
              .Append($"<td>{s.Attempts}/{s.MaxAttempts}</td><td>{Format.Time(s.StartedAt)}</td><td>{took}</td><td>");
            if (why is not null) sb.Append($"<div class=\"why\">{E(why)}</div>");
            if (s.Error is { } e) sb.Append($"<div class=\"err\">{E(Format.FirstLine(e.Message))}</div>");
            sb.Append("</td></tr>");
        }
        sb.Append("</table>");

        foreach (var s in task.Steps.Where(s => s.Error is not null || s.Result is not null))
        {
            sb.Append($"<h3>{E(s.Name)}</h3>");
            if (s.Error is { } e)
            {
                sb.Append($"<p class=\"err\">attempt {e.Attempt} at {Format.Time(e.At)}: {(e.Permanent ? "permanent" : "retryable")}{(e.ErrorType is null ? "" : " " + E(e.ErrorType))}</p>");
                sb.Append($"<pre class=\"error\">{E(e.Message)}");
                if (e.Backtrace is { Count: > 0 } bt) sb.Append("\n\n").Append(E(string.Join('\n', bt)));
                sb.Append("</pre>");
            }
            if (s.Result is { } r) sb.Append($"<p class=\"muted\">result</p><pre>{E(r.GetRawText())}</pre>");
        }

        sb.Append($"<h2>Context</h2><pre id=\"context\">{E(h.Context.GetRawText())}</pre>");
        sb.Append("<h2>Audit trail</h2><table id=\"audit\"><tr><th>At</th><th>Step</th><th>Transition</th><th>Reason</th><th>Actor</th></tr>");
        foreach (var t in task.Transitions)
            sb.Append($"<tr><td>{Format.Time(t.At)}</td><td>{E(t.StepName ?? "(task)")}</td><td>{E(t.From ?? "∅")} → {State(t.To)}</td><td>{E(t.Reason)}</td><td>{E(t.Actor)}</td></tr>");
        sb.Append("</table>");
        return sb.ToString();
    }

    private static string Actions(TaskView task, bool enabled)
    {
        var disabled = enabled ? "" : " disabled";
        var uuid = task.TaskUuid;
        var sb = new StringBuilder("<h2>Actions</h2>");
        if (!enabled) sb.Append("<p class=\"muted\">Actions are off: start the dashboard with <code>--token</code> (or TASKER_DASHBOARD_TOKEN) to enable them.</p>");
        string Fields() => $"<input type=\"password\" name=\"token\" placeholder=\"access token\" required{disabled}> <input name=\"actor\" placeholder=\"your name\" size=\"12\"{disabled}> <input name=\"reason\" placeholder=\"reason\" size=\"18\"{disabled}> ";
        var retryable = task.State is TaskState.Error;
        sb.Append($"<form class=\"inline\" method=\"post\" action=\"/tasks/{uuid}/retry\" id=\"retry-form\">{Fields()}<button type=\"submit\" id=\"retry\"{(retryable ? disabled : " disabled")}>Retry task</button></form>");
        var cancellable = !task.State.IsFinished();
        sb.Append($"<form class=\"inline\" method=\"post\" action=\"/tasks/{uuid}/cancel\" id=\"cancel-form\">{Fields()}<button type=\"submit\" id=\"cancel\"{(cancellable ? disabled : " disabled")}>Cancel task</button></form>");
        var resolvable = task.Steps.Where(s => s.State is StepState.Error or StepState.Pending or StepState.WaitingForRetry).ToArray();
        if (resolvable.Length > 0 && task.State is not (TaskState.Complete or TaskState.Cancelled or TaskState.ResolvedManually))
        {
            sb.Append($"<form class=\"inline\" method=\"post\" action=\"/tasks/{uuid}/resolve\" id=\"resolve-form\">{Fields()}<select name=\"step\"{disabled}>");
            foreach (var s in resolvable) sb.Append($"<option value=\"{E(s.Name)}\">{E(s.Name)}</option>");
            sb.Append($"</select> <input name=\"result\" placeholder=\"result JSON (optional)\" size=\"22\"{disabled}> <button type=\"submit\" id=\"resolve\"{disabled}>Resolve step</button></form>");
        }
        return sb.ToString();
    }

    public static string Stale(StaleWork stale, StaleThresholds thresholds, DateTimeOffset now)
    {
        var sb = new StringBuilder("<h1>Stale work</h1>");
        sb.Append($"<p class=\"muted\">Ready steps nobody claimed for more than {Format.Duration(thresholds.UnclaimedAfter)}, pending tasks nobody drove for more than {Format.Duration(thresholds.PendingAfter)} (change with ?unclaimed_after=10m&amp;pending_after=1h).</p>");
        if (stale.TaskUuids.Count == 0) return sb.Append("<p>Nothing stuck.</p>").ToString();
        static string Link(Guid uuid) => $"<a href=\"/tasks/{uuid}\"><code>{uuid}</code></a>";
        Section(sb, "Expired leases", stale.ExpiredLeases.Count, "<th>Task</th><th>Step</th><th>Lease expired</th>",
            stale.ExpiredLeases.Select(l => $"<td>{Link(l.TaskUuid)}</td><td>{E(l.StepName)}</td><td>{Format.Age(l.LeaseExpiresAt, now)}</td>"));
        Section(sb, "Retries due", stale.RetryDue.Count, "<th>Task</th><th>Due</th>",
            stale.RetryDue.Select(r => $"<td>{Link(r.TaskUuid)}</td><td>{Format.Age(r.NextRetryAt, now)}</td>"));
        Section(sb, "Ready steps nobody claimed", stale.UnclaimedSteps.Count, "<th>Task</th><th>Step</th><th>Waits for handler</th><th>Ready since</th>",
            stale.UnclaimedSteps.Select(u => $"<td>{Link(u.TaskUuid)}</td><td>{E(u.StepName)}</td><td><code>{E(u.Handler)}</code></td><td>{Format.Age(u.ReadySince, now)}</td>"));
        Section(sb, "Pending tasks nobody drove", stale.UndrivenTasks.Count, "<th>Task</th><th>Namespace/name</th><th>Pending since</th>",
            stale.UndrivenTasks.Select(u => $"<td>{Link(u.TaskUuid)}</td><td>{E(u.Namespace)}/{E(u.Name)}</td><td>{Format.Age(u.PendingSince, now)}</td>"));
        return sb.ToString();
    }

    private static void Section(StringBuilder sb, string title, int count, string header, IEnumerable<string> rows)
    {
        if (count == 0) return;
        sb.Append($"<h2>{title} ({count})</h2><table><tr>{header}</tr>");
        foreach (var row in rows) sb.Append("<tr>").Append(row).Append("</tr>");
        sb.Append("</table>");
    }

    public static string Templates(IReadOnlyList<TemplateSummary> templates)
    {
        var sb = new StringBuilder("<h1>Templates</h1>");
        if (templates.Count == 0) return sb.Append("<p class=\"muted\">No templates registered.</p>").ToString();
        sb.Append("<table><tr><th>Namespace</th><th>Name</th><th>Version</th><th>Steps</th><th>Registered</th><th>Description</th></tr>");
        foreach (var t in templates)
            sb.Append($"<tr><td>{E(t.Namespace)}</td><td><a href=\"/?namespace={Q(t.Namespace)}&name={Q(t.Name)}\">{E(t.Name)}</a></td><td>{E(t.Version)}</td><td>{t.StepCount}</td><td>{Format.Time(t.RegisteredAt)}</td><td>{E(t.Description)}</td></tr>");
        return sb.Append("</table>").ToString();
    }

    public static string NotFound(string what) => $"<h1>Not found</h1><p>{E(what)}</p><p><a href=\"/\">All tasks</a></p>";
}
