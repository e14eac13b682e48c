using System.Buffers;
using System.Text;
using System.Text.Json;
using Tasker.Cli.Diagnosis;
using Tasker.Core;
using Tasker.Core.Storage;
using Tasker.Postgres;
using Tasker.Postgres.Queries;

namespace Tasker.Cli.Output;

/// <summary>
/// The machine-readable forms of everything the command and the dashboard's /api show: snake_case, UTC ISO-8601
/// times, the same field names as the C ABI's JSON where the two overlap. Written by hand with
/// <see cref="Utf8JsonWriter"/> (no reflection: the executable is NativeAOT).
/// </summary>
internal static class JsonOut
{
    public static string Render(Action<Utf8JsonWriter> write, bool indented = true)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
            write(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Summaries(Utf8JsonWriter w, IReadOnlyList<TaskSummary> tasks, int page, int limit)
    {
        w.WriteStartObject();
        w.WriteNumber("page", page);
        w.WriteNumber("limit", limit);
        w.WriteStartArray("tasks");
        foreach (var t in tasks) Summary(w, t);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void Summary(Utf8JsonWriter w, TaskSummary t)
    {
        w.WriteStartObject();
        w.WriteString("task_uuid", t.TaskUuid);
        w.WriteString("namespace", t.Namespace);
        w.WriteString("name", t.Name);
        w.WriteString("version", t.Version);
        w.WriteString("state", t.State.ToWire());
        w.WriteString("created_at", t.CreatedAt);
        w.WriteString("updated_at", t.UpdatedAt);
        w.WriteEndObject();
    }

    public static void Task(Utf8JsonWriter w, TaskView task, DateTimeOffset now, TimeSpan unclaimedAfter)
    {
        var h = task.Header;
        w.WriteStartObject();
        w.WriteString("task_uuid", h.Uuid);
        w.WriteString("namespace", h.Namespace);
        w.WriteString("name", h.Name);
        w.WriteString("version", h.Version);
        w.WriteString("state", h.State.ToWire());
        w.WritePropertyName("context");
        h.Context.WriteTo(w);
        w.WriteStartArray("tags");
        foreach (var tag in h.Tags) w.WriteStringValue(tag);
        w.WriteEndArray();
        w.WriteNumber("priority", h.Priority);
        OptionalString(w, "initiator", h.Initiator);
        OptionalString(w, "source_system", h.SourceSystem);
        OptionalString(w, "reason", h.Reason);
        OptionalString(w, "correlation_id", h.CorrelationId);
        w.WriteString("created_at", h.CreatedAt);
        w.WriteString("updated_at", h.UpdatedAt);
        OptionalTime(w, "finished_at", h.FinishedAt);
        w.WriteStartArray("steps");
        foreach (var s in task.Steps) Step(w, task, s, now, unclaimedAfter);
        w.WriteEndArray();
        w.WriteStartArray("transitions");
        foreach (var t in task.Transitions)
        {
            w.WriteStartObject();
            OptionalString(w, "step_name", t.StepName);
            OptionalString(w, "from_state", t.From);
            w.WriteString("to_state", t.To);
            w.WriteString("reason", t.Reason);
            OptionalString(w, "actor", t.Actor);
            w.WriteString("at", t.At);
            if (t.Attempt is { } a) w.WriteNumber("attempt", a);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Step(Utf8JsonWriter w, TaskView task, StepView s, DateTimeOffset now, TimeSpan unclaimedAfter)
    {
        w.WriteStartObject();
        w.WriteString("step_uuid", s.StepUuid);
        w.WriteString("name", s.Name);
        w.WriteString("handler", s.Handler);
        w.WriteString("state", s.State.ToWire());
        w.WriteNumber("attempts", s.Attempts);
        w.WriteNumber("max_attempts", s.MaxAttempts);
        w.WriteBoolean("retryable", s.Retryable);
        w.WriteStartArray("dependencies");
        foreach (var d in s.Dependencies) w.WriteStringValue(d);
        w.WriteEndArray();
        OptionalTime(w, "started_at", s.StartedAt);
        OptionalTime(w, "finished_at", s.FinishedAt);
        OptionalTime(w, "next_retry_at", s.NextRetryAt);
        OptionalTime(w, "lease_expires_at", s.LeaseExpiresAt);
        OptionalString(w, "claimed_by", s.ClaimedBy);
        if (s.Result is { } result)
        {
            w.WritePropertyName("result");
            result.WriteTo(w);
        }
        if (s.Error is { } e)
        {
            w.WriteStartObject("error");
            w.WriteString("message", e.Message);
            OptionalString(w, "error_type", e.ErrorType);
            w.WriteBoolean("permanent", e.Permanent);
            w.WriteNumber("attempt", e.Attempt);
            w.WriteString("at", e.At);
            if (e.Backtrace is { } bt)
            {
                w.WriteStartArray("backtrace");
                foreach (var line in bt) w.WriteStringValue(line);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        OptionalString(w, "why_not_running", WhyNotRunning.Explain(task, s, now, unclaimedAfter));
        w.WriteEndObject();
    }

    public static void Outcome(Utf8JsonWriter w, string action, TaskOutcome o, string actor, string? reason)
    {
        w.WriteStartObject();
        w.WriteString("command", action);
        w.WriteString("task_uuid", o.TaskUuid);
        w.WriteString("task_state", o.TaskState.ToWire());
        w.WriteString("status", o.Status.ToWire());
        w.WriteString("action", o.Action.ToWire());
        if (o.DelaySeconds is { } d) w.WriteNumber("delay_seconds", d);
        w.WriteNumber("ready_steps", o.ReadySteps);
        w.WriteString("actor", actor);
        OptionalString(w, "reason", reason);
        w.WriteEndObject();
    }

    public static void Stale(Utf8JsonWriter w, StaleWork stale, StaleThresholds thresholds)
    {
        w.WriteStartObject();
        w.WriteNumber("unclaimed_after_seconds", thresholds.UnclaimedAfter.TotalSeconds);
        w.WriteNumber("pending_after_seconds", thresholds.PendingAfter.TotalSeconds);
        w.WriteStartArray("expired_leases");
        foreach (var l in stale.ExpiredLeases)
        {
            w.WriteStartObject();
            w.WriteString("task_uuid", l.TaskUuid);
            w.WriteString("step_uuid", l.StepUuid);
            w.WriteString("step_name", l.StepName);
            w.WriteString("lease_expires_at", l.LeaseExpiresAt);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("retry_due");
        foreach (var r in stale.RetryDue)
        {
            w.WriteStartObject();
            w.WriteString("task_uuid", r.TaskUuid);
            w.WriteString("next_retry_at", r.NextRetryAt);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("unclaimed_steps");
        foreach (var u in stale.UnclaimedSteps)
        {
            w.WriteStartObject();
            w.WriteString("task_uuid", u.TaskUuid);
            w.WriteString("step_uuid", u.StepUuid);
            w.WriteString("step_name", u.StepName);
            w.WriteString("handler", u.Handler);
            w.WriteString("ready_since", u.ReadySince);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("undriven_tasks");
        foreach (var t in stale.UndrivenTasks)
        {
            w.WriteStartObject();
            w.WriteString("task_uuid", t.TaskUuid);
            w.WriteString("namespace", t.Namespace);
            w.WriteString("name", t.Name);
            w.WriteString("pending_since", t.PendingSince);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("task_uuids");
        foreach (var uuid in stale.TaskUuids) w.WriteStringValue(uuid);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// The store's counts, what waits for a worker (<paramref name="work"/>) and the dead rows of the tables task writes
    /// update (<paramref name="tables"/>).
    /// </summary>
    public static void Stats(Utf8JsonWriter w, StoreStats stats, WorkCounts work, IReadOnlyList<TableHealth> tables)
    {
        w.WriteStartObject();
        w.WriteString("store", stats.Store);
        Counts(w, "tasks_by_state", stats.TasksByState);
        Counts(w, "steps_by_state", stats.StepsByState);
        OptionalTime(w, "oldest_unfinished_task_created_at", stats.OldestUnfinishedTaskCreatedAt);
        Counts(w, "ready_steps_by_handler", work.ReadyStepsByHandler);
        w.WriteNumber("expired_leases", work.ExpiredLeases);
        w.WriteNumber("retries_due", work.RetriesDue);
        w.WriteStartArray("tables");
        foreach (var h in tables)
        {
            w.WriteStartObject();
            w.WriteString("table", h.Table);
            w.WriteNumber("rows", h.LiveRows);
            w.WriteNumber("dead_rows", h.DeadRows);
            w.WriteBoolean("autovacuum", h.Autovacuum);
            w.WriteNumber("autovacuum_at_dead_rows", h.VacuumAt);
            OptionalTime(w, "last_vacuum_at", h.LastVacuum);
            w.WriteBoolean("last_vacuum_automatic", h.LastVacuumWasAutomatic);
            w.WriteBoolean("dead_rows_pile_up", h.LetsDeadTaskRowsPileUp);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Counts(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, long> counts)
    {
        w.WriteStartObject(name);
        foreach (var (state, count) in counts) w.WriteNumber(state, count);
        w.WriteEndObject();
    }

    public static void Templates(Utf8JsonWriter w, IReadOnlyList<TemplateSummary> templates)
    {
        w.WriteStartObject();
        w.WriteStartArray("templates");
        foreach (var t in templates)
        {
            w.WriteStartObject();
            w.WriteString("namespace", t.Namespace);
            w.WriteString("name", t.Name);
            w.WriteString("version", t.Version);
            OptionalString(w, "description", t.Description);
            w.WriteNumber("step_count", t.StepCount);
            w.WriteString("registered_at", t.RegisteredAt);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void OptionalString(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }

    private static void OptionalTime(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v) w.WriteString(name, v);
        else w.WriteNull(name);
    }
}
