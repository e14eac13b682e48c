using System.Text.Json;
using Tasker.Core;
using Tasker.Core.Events;
using Tasker.Core.Storage;
using Tasker.Core.Templates;

namespace Tasker.Native.Wire;

/// <summary>
/// The JSON shapes the C ABI returns (docs/c-abi.md), written by hand with <see cref="Utf8JsonWriter"/>: no
/// reflection, so it is AOT-safe, and the wire names are visible in one place.
/// </summary>
internal static class WireWriter
{
    public static void Template(Utf8JsonWriter w, TaskTemplate t)
    {
        w.WriteStartObject();
        w.WriteString("namespace", t.Namespace);
        w.WriteString("name", t.Name);
        w.WriteString("version", t.Version.ToString());
        w.WriteStartArray("steps");
        foreach (var step in t.Steps) w.WriteStringValue(step.Name);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void Created(Utf8JsonWriter w, CreateTaskResult created)
    {
        w.WriteStartObject();
        w.WriteBoolean("created", created.Created);
        w.WritePropertyName("task");
        Task(w, created.Task);
        w.WriteEndObject();
    }

    public static void Task(Utf8JsonWriter w, TaskView task)
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
        Strings(w, "tags", h.Tags);
        w.WriteNumber("priority", h.Priority);
        OptionalString(w, "initiator", h.Initiator);
        OptionalString(w, "source_system", h.SourceSystem);
        OptionalString(w, "reason", h.Reason);
        OptionalString(w, "correlation_id", h.CorrelationId);
        OptionalString(w, "idempotency_key", h.IdempotencyKey);
        w.WriteString("created_at", h.CreatedAt);
        w.WriteString("updated_at", h.UpdatedAt);
        OptionalTime(w, "finished_at", h.FinishedAt);
        w.WriteStartArray("steps");
        foreach (var step in task.Steps) Step(w, step);
        w.WriteEndArray();
        w.WriteStartArray("transitions");
        foreach (var t in task.Transitions) Transition(w, t);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Step(Utf8JsonWriter w, StepView s)
    {
        w.WriteStartObject();
        w.WriteString("step_uuid", s.StepUuid);
        w.WriteString("name", s.Name);
        w.WriteString("handler", s.Handler);
        w.WriteString("state", s.State.ToWire());
        w.WriteNumber("attempts", s.Attempts);
        w.WriteNumber("max_attempts", s.MaxAttempts);
        w.WriteBoolean("retryable", s.Retryable);
        OptionalJson(w, "result", s.Result);
        OptionalJson(w, "metadata", s.Metadata);
        w.WritePropertyName("error");
        Error(w, s.Error);
        OptionalTime(w, "next_retry_at", s.NextRetryAt);
        OptionalTime(w, "lease_expires_at", s.LeaseExpiresAt);
        Strings(w, "dependencies", s.Dependencies);
        w.WriteStartObject("readiness");
        w.WriteBoolean("ready", s.Readiness.Ready);
        Strings(w, "waiting_on", s.Readiness.WaitingOn);
        OptionalTime(w, "retry_at", s.Readiness.RetryAt);
        w.WriteBoolean("attempts_exhausted", s.Readiness.AttemptsExhausted);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Transition(Utf8JsonWriter w, TransitionRecord t)
    {
        w.WriteStartObject();
        OptionalString(w, "step_name", t.StepName);
        OptionalString(w, "from", t.From);
        w.WriteString("to", t.To);
        w.WriteString("reason", t.Reason);
        OptionalString(w, "actor", t.Actor);
        w.WriteString("at", t.At);
        if (t.Attempt is { } attempt) w.WriteNumber("attempt", attempt);
        w.WriteEndObject();
    }

    public static void Error(Utf8JsonWriter w, StepError? e)
    {
        if (e is null)
        {
            w.WriteNullValue();
            return;
        }
        w.WriteStartObject();
        w.WriteString("message", e.Message);
        OptionalString(w, "error_type", e.ErrorType);
        w.WriteBoolean("permanent", e.Permanent);
        w.WriteNumber("attempt", e.Attempt);
        w.WriteString("at", e.At);
        if (e.Backtrace is { } backtrace) Strings(w, "backtrace", backtrace);
        w.WriteEndObject();
    }

    public static void Summaries(Utf8JsonWriter w, IReadOnlyList<TaskSummary> tasks)
    {
        w.WriteStartObject();
        w.WriteStartArray("tasks");
        foreach (var t in tasks)
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
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void Claims(Utf8JsonWriter w, ClaimResult result)
    {
        w.WriteStartObject();
        w.WriteStartArray("claims");
        foreach (var c in result.Claims)
        {
            w.WriteStartObject();
            w.WriteStartObject("task");
            w.WriteString("task_uuid", c.TaskUuid);
            w.WriteString("namespace", c.Namespace);
            w.WriteString("name", c.TaskName);
            w.WriteString("version", c.TaskVersion);
            w.WritePropertyName("context");
            c.Context.WriteTo(w);
            Strings(w, "tags", c.Tags);
            w.WriteEndObject();
            w.WriteStartObject("step");
            w.WriteString("step_uuid", c.StepUuid);
            w.WriteString("name", c.StepName);
            w.WriteString("handler", c.Handler);
            w.WriteNumber("attempt", c.Attempt);
            w.WriteNumber("max_attempts", c.MaxAttempts);
            w.WritePropertyName("initialization");
            (c.Initialization ?? JsonValues.EmptyObject).WriteTo(w);
            w.WriteEndObject();
            w.WriteStartObject("dependency_results");
            foreach (var (name, value) in c.DependencyResults)
            {
                w.WritePropertyName(name);
                value.WriteTo(w);
            }
            w.WriteEndObject();
            w.WriteString("claim_token", c.ClaimToken);
            w.WriteString("lease_expires_at", c.LeaseExpiresAt);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WritePropertyName("outcome");
        Outcome(w, result.Outcome);
        w.WriteEndObject();
    }

    public static void Outcome(Utf8JsonWriter w, TaskOutcome o)
    {
        w.WriteStartObject();
        w.WriteString("task_uuid", o.TaskUuid);
        w.WriteString("task_state", o.TaskState.ToWire());
        w.WriteString("execution_status", o.Status.ToWire());
        w.WriteString("action", o.Action.ToWire());
        if (o.DelaySeconds is { } delay) w.WriteNumber("delay_seconds", delay);
        else w.WriteNull("delay_seconds");
        w.WriteNumber("ready_steps", o.ReadySteps);
        w.WriteNumber("in_progress_steps", o.InProgressSteps);
        w.WriteBoolean("finalized", o.Finalized);
        w.WriteEndObject();
    }

    public static void Lease(Utf8JsonWriter w, DateTimeOffset expires)
    {
        w.WriteStartObject();
        w.WriteString("lease_expires_at", expires);
        w.WriteEndObject();
    }

    public static void Stale(Utf8JsonWriter w, StaleWork stale)
    {
        w.WriteStartObject();
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
        w.WriteStartArray("task_uuids");
        foreach (var uuid in stale.TaskUuids) w.WriteStringValue(uuid);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void Health(Utf8JsonWriter w, EngineHealth health)
    {
        w.WriteStartObject();
        w.WriteBoolean("healthy", health.Healthy);
        OptionalString(w, "error", health.Error);
        w.WriteNumber("expired_leases", health.ExpiredLeases);
        w.WriteNumber("retries_due", health.RetriesDue);
        if (health.Stats is { } stats)
        {
            w.WriteString("store", stats.Store);
            Counts(w, "tasks", stats.TasksByState);
            Counts(w, "steps", stats.StepsByState);
            OptionalTime(w, "oldest_unfinished_task_created_at", stats.OldestUnfinishedTaskCreatedAt);
            if (stats.PoolInUse is { } inUse) w.WriteNumber("pool_in_use", inUse);
            if (stats.PoolSize is { } size) w.WriteNumber("pool_size", size);
        }
        w.WriteEndObject();
    }

    private static void Counts(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, long> counts)
    {
        w.WriteStartObject(name);
        foreach (var (state, count) in counts) w.WriteNumber(state, count);
        w.WriteEndObject();
    }

    public static void Events(Utf8JsonWriter w, (IReadOnlyList<TaskerEvent> Events, long Dropped) batch)
    {
        w.WriteStartObject();
        w.WriteStartArray("events");
        foreach (var e in batch.Events) Event(w, e);
        w.WriteEndArray();
        w.WriteNumber("dropped", batch.Dropped);
        w.WriteEndObject();
    }

    private static void Event(Utf8JsonWriter w, TaskerEvent e)
    {
        w.WriteStartObject();
        w.WriteNumber("sequence", e.Sequence);
        w.WriteString("name", e.Name);
        w.WriteString("timestamp", e.Timestamp);
        if (e.TaskUuid is { } task) w.WriteString("task_uuid", task);
        OptionalString(w, "task_name", e.TaskName);
        OptionalString(w, "namespace", e.Namespace);
        if (e.StepUuid is { } step) w.WriteString("step_uuid", step);
        OptionalString(w, "step_name", e.StepName);
        OptionalString(w, "from_state", e.FromState);
        OptionalString(w, "to_state", e.ToState);
        if (e.Attempt is { } attempt) w.WriteNumber("attempt", attempt);
        if (e.DurationMs is { } duration) w.WriteNumber("duration_ms", duration);
        OptionalString(w, "reason", e.Reason);
        OptionalString(w, "actor", e.Actor);
        if (e.Error is { } error)
        {
            w.WritePropertyName("error");
            Error(w, error);
        }
        if (e.Data is { } data)
        {
            w.WriteStartObject("data");
            foreach (var (key, value) in data)
            {
                w.WritePropertyName(key);
                value.WriteTo(w);
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
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

    private static void OptionalJson(Utf8JsonWriter w, string name, JsonElement? value)
    {
        w.WritePropertyName(name);
        if (value is { } v) v.WriteTo(w);
        else w.WriteNullValue();
    }
}
