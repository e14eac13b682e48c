using System.Text.Json;
using Tasker.Core;
using Tasker.Core.Events;
using Tasker.Core.Storage;
using Tasker.Core.Telemetry;
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
        w.WriteString(Names.Namespace, t.Namespace);
        w.WriteString(Names.Name, t.Name);
        w.WriteString(Names.Version, t.Version.ToString());
        w.WriteStartArray(Names.Steps);
        foreach (var step in t.Steps) w.WriteStringValue(step.Name);
        w.WriteEndArray();
        TemplateDetails(w, t);
        w.WriteEndObject();
    }

    /// <summary>
    /// What the template says about itself beyond its DAG (Rails Tasker's descriptive keys), so nothing it declares
    /// is dropped silently. Handler configuration is never echoed: it may hold filled-in secrets.
    /// </summary>
    private static void TemplateDetails(Utf8JsonWriter w, TaskTemplate t)
    {
        var d = t.Details;
        PresentString(w, Names.Description, t.Description);
        PresentString(w, Names.ModuleNamespace, d.ModuleNamespace);
        PresentString(w, Names.TaskHandlerClass, d.TaskHandlerClass);
        if (d.Concurrent is { } concurrent) w.WriteBoolean(Names.Concurrent, concurrent);
        PresentString(w, Names.DefaultDependentSystem, d.DefaultDependentSystem);
        if (d.NamedSteps is { } named) Strings(w, Names.NamedSteps, named);
        PresentString(w, Names.Environment, d.Environment);
        w.WriteBoolean(Names.HasInputSchema, t.InputSchema is not null);
        w.WriteStartArray(Names.StepDetails);
        foreach (var step in t.Steps)
        {
            w.WriteStartObject();
            w.WriteString(Names.Name, step.Name);
            w.WriteString(Names.Handler, step.Handler);
            PresentString(w, Names.Description, step.Description);
            PresentString(w, Names.DependentSystem, step.DependentSystem);
            w.WriteBoolean(Names.Skippable, step.Skippable);
            Strings(w, Names.Dependencies, step.Dependencies);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Template details are written only when the template has them (no nulls for keys it never had).</summary>
    private static void PresentString(Utf8JsonWriter w, JsonEncodedText name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }

    public static void Created(Utf8JsonWriter w, CreateTaskResult created)
    {
        w.WriteStartObject();
        w.WriteBoolean(Names.Created, created.Created);
        w.WritePropertyName(Names.Task);
        Task(w, created.Task);
        w.WriteEndObject();
    }

    public static void Task(Utf8JsonWriter w, TaskView task)
    {
        var h = task.Header;
        w.WriteStartObject();
        UuidText.Write(w, Names.TaskUuid, h.Uuid);
        RepeatedText.Write(w, Names.Namespace, h.Namespace);
        RepeatedText.Write(w, Names.Name, h.Name);
        RepeatedText.Write(w, Names.Version, h.Version);
        w.WriteString(Names.State, WireValues.Of(h.State));
        w.WritePropertyName(Names.Context);
        h.Context.WriteTo(w);
        Strings(w, Names.Tags, h.Tags);
        w.WriteNumber(Names.Priority, h.Priority);
        OptionalString(w, Names.Initiator, h.Initiator);
        OptionalString(w, Names.SourceSystem, h.SourceSystem);
        OptionalString(w, Names.Reason, h.Reason);
        OptionalString(w, Names.CorrelationId, h.CorrelationId);
        OptionalString(w, Names.IdempotencyKey, h.IdempotencyKey);
        w.WriteString(Names.CreatedAt, h.CreatedAt);
        w.WriteString(Names.RequestedAt, h.RequestedAt ?? h.CreatedAt);
        w.WriteString(Names.UpdatedAt, h.UpdatedAt);
        OptionalTime(w, Names.FinishedAt, h.FinishedAt);
        w.WriteStartArray(Names.Steps);
        foreach (var step in task.Steps) Step(w, step);
        w.WriteEndArray();
        HandlerWaits(w, task.WaitingForHandlers);
        w.WriteStartArray(Names.Transitions);
        foreach (var t in task.Transitions) Transition(w, t);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Step(Utf8JsonWriter w, StepView s)
    {
        w.WriteStartObject();
        UuidText.Write(w, Names.StepUuid, s.StepUuid);
        RepeatedText.Write(w, Names.Name, s.Name);
        RepeatedText.Write(w, Names.Handler, s.Handler);
        w.WriteString(Names.State, WireValues.Of(s.State));
        w.WriteNumber(Names.Attempts, s.Attempts);
        w.WriteNumber(Names.MaxAttempts, s.MaxAttempts);
        w.WriteBoolean(Names.Retryable, s.Retryable);
        OptionalJson(w, Names.Result, s.Result);
        OptionalJson(w, Names.Metadata, s.Metadata);
        w.WritePropertyName(Names.Error);
        Error(w, s.Error);
        OptionalTime(w, Names.NextRetryAt, s.NextRetryAt);
        OptionalTime(w, Names.LeaseExpiresAt, s.LeaseExpiresAt);
        Strings(w, Names.Dependencies, s.Dependencies);
        w.WriteStartObject(Names.Readiness);
        w.WriteBoolean(Names.Ready, s.Readiness.Ready);
        Strings(w, Names.WaitingOn, s.Readiness.WaitingOn);
        OptionalTime(w, Names.RetryAt, s.Readiness.RetryAt);
        w.WriteBoolean(Names.AttemptsExhausted, s.Readiness.AttemptsExhausted);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Transition(Utf8JsonWriter w, TransitionRecord t)
    {
        w.WriteStartObject();
        OptionalString(w, Names.StepName, t.StepName);
        OptionalString(w, Names.From, t.From);
        w.WriteString(Names.To, t.To);
        w.WriteString(Names.Reason, t.Reason);
        OptionalString(w, Names.Actor, t.Actor);
        w.WriteString(Names.At, t.At);
        if (t.Attempt is { } attempt) w.WriteNumber(Names.Attempt, attempt);
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
        w.WriteString(Names.Message, e.Message);
        OptionalString(w, Names.ErrorType, e.ErrorType);
        w.WriteBoolean(Names.Permanent, e.Permanent);
        w.WriteNumber(Names.Attempt, e.Attempt);
        w.WriteString(Names.At, e.At);
        if (e.Backtrace is { } backtrace) Strings(w, Names.Backtrace, backtrace);
        w.WriteEndObject();
    }

    public static void Summaries(Utf8JsonWriter w, IReadOnlyList<TaskSummary> tasks)
    {
        w.WriteStartObject();
        w.WriteStartArray(Names.Tasks);
        foreach (var t in tasks)
        {
            w.WriteStartObject();
            UuidText.Write(w, Names.TaskUuid, t.TaskUuid);
            w.WriteString(Names.Namespace, t.Namespace);
            w.WriteString(Names.Name, t.Name);
            w.WriteString(Names.Version, t.Version);
            w.WriteString(Names.State, WireValues.Of(t.State));
            w.WriteString(Names.CreatedAt, t.CreatedAt);
            w.WriteString(Names.UpdatedAt, t.UpdatedAt);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The answer of a claim or a report: <c>{"claims": [...], "outcome": {...}}</c>.</summary>
    public static void Claims(Utf8JsonWriter w, ClaimAnswer<ClaimResult> answer)
    {
        w.WriteStartObject();
        ClaimsAndOutcome(w, answer.Result, answer.Lean);
        w.WriteEndObject();
    }

    /// <summary>
    /// The claims and the outcome; lean (<see cref="ClaimAnswer{T}"/>), each claim's task leaves out its namespace, name
    /// and version, and the outcome is null when steps are claimed: the caller holds the task, and reads the outcome
    /// once none is.
    /// </summary>
    private static void ClaimsAndOutcome(Utf8JsonWriter w, ClaimResult result, bool lean)
    {
        ClaimList(w, result.Claims, lean);
        w.WritePropertyName(Names.Outcome);
        if (lean && result.Claims.Count > 0) w.WriteNullValue();
        else Outcome(w, result.Outcome);
    }

    /// <summary>
    /// The answer of <c>tasker_steps_report</c>: <c>{"reports": [null | {"code", "message"}], "claims", "outcome"}</c>, a
    /// null for each report applied and the error of each one refused, in the order they were sent.
    /// </summary>
    public static void Reports(Utf8JsonWriter w, ClaimAnswer<ReportsResult> answer)
    {
        var result = answer.Result;
        w.WriteStartObject();
        w.WriteStartArray(Names.Reports);
        foreach (var refused in result.Refused)
        {
            if (refused is null)
            {
                w.WriteNullValue();
                continue;
            }
            w.WriteStartObject();
            w.WriteNumber(Names.Code, (int)refused.Code);
            w.WriteString(Names.Message, refused.Message);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        ClaimsAndOutcome(w, result.Next, answer.Lean);
        w.WriteEndObject();
    }

    /// <summary>The answer of a claim across tasks (worker mode): <c>{"claims": [...]}</c>.</summary>
    public static void WorkClaims(Utf8JsonWriter w, IReadOnlyList<StepClaim> claims)
    {
        w.WriteStartObject();
        ClaimList(w, claims, lean: false);
        w.WriteEndObject();
    }

    private static void ClaimList(Utf8JsonWriter w, IReadOnlyList<StepClaim> claims, bool lean)
    {
        w.WriteStartArray(Names.Claims);
        foreach (var c in claims)
            Claim(w, c, lean);
        w.WriteEndArray();
    }

    private static void Claim(Utf8JsonWriter w, StepClaim c, bool lean)
    {
        w.WriteStartObject();
        w.WriteStartObject(Names.Task);
        UuidText.Write(w, Names.TaskUuid, c.TaskUuid);
        if (!lean) TaskNames(w, c);
        // Always written: a handler may change its copy of them, which no other step then sees.
        w.WritePropertyName(Names.Context);
        c.Context.WriteTo(w);
        Strings(w, Names.Tags, c.Tags);
        w.WriteEndObject();
        w.WriteStartObject(Names.Step);
        UuidText.Write(w, Names.StepUuid, c.StepUuid);
        RepeatedText.Write(w, Names.Name, c.StepName);
        RepeatedText.Write(w, Names.Handler, c.Handler);
        w.WriteNumber(Names.Attempt, c.Attempt);
        w.WriteNumber(Names.MaxAttempts, c.MaxAttempts);
        w.WritePropertyName(Names.Initialization);
        (c.Initialization ?? JsonValues.EmptyObject).WriteTo(w);
        w.WriteEndObject();
        w.WriteStartObject(Names.DependencyResults);
        foreach (var (name, value) in c.DependencyResults)
        {
            RepeatedText.WritePropertyName(w, name);
            value.WriteTo(w);
        }
        w.WriteEndObject();
        w.WriteString(Names.ClaimToken, c.ClaimToken);
        w.WriteString(Names.LeaseExpiresAt, c.LeaseExpiresAt);
        if (c.DeadlineAt is { } deadline) w.WriteString(Names.DeadlineAt, deadline);
        else w.WriteNull(Names.DeadlineAt);
        w.WriteNumber(Names.StepsLeft, c.StepsLeft);
        w.WriteEndObject();
    }

    /// <summary>The task's names, which a lean answer leaves out.</summary>
    private static void TaskNames(Utf8JsonWriter w, StepClaim c)
    {
        RepeatedText.Write(w, Names.Namespace, c.Namespace);
        RepeatedText.Write(w, Names.Name, c.TaskName);
        RepeatedText.Write(w, Names.Version, c.TaskVersion);
    }

    public static void Outcome(Utf8JsonWriter w, TaskOutcome o)
    {
        w.WriteStartObject();
        UuidText.Write(w, Names.TaskUuid, o.TaskUuid);
        w.WriteString(Names.TaskState, WireValues.Of(o.TaskState));
        w.WriteString(Names.ExecutionStatus, WireValues.Of(o.Status));
        w.WriteString(Names.Action, WireValues.Of(o.Action));
        if (o.DelaySeconds is { } delay) w.WriteNumber(Names.DelaySeconds, delay);
        else w.WriteNull(Names.DelaySeconds);
        w.WriteNumber(Names.ReadySteps, o.ReadySteps);
        w.WriteNumber(Names.InProgressSteps, o.InProgressSteps);
        w.WriteBoolean(Names.Finalized, o.Finalized);
        if (o.RequeueAfterSeconds is { } requeue) w.WriteNumber(Names.RequeueAfterSeconds, requeue);
        else w.WriteNull(Names.RequeueAfterSeconds);
        HandlerWaits(w, o.WaitingForHandlers ?? []);
        w.WriteEndObject();
    }

    /// <summary>"waiting_for_handlers": [{"handler", "steps": [...]}], in the outcome and in a task.</summary>
    private static void HandlerWaits(Utf8JsonWriter w, IReadOnlyList<HandlerWait> waits)
    {
        w.WriteStartArray(Names.WaitingForHandlers);
        foreach (var wait in waits)
        {
            w.WriteStartObject();
            w.WriteString(Names.Handler, wait.Handler);
            Strings(w, Names.Steps, wait.Steps);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static void Lease(Utf8JsonWriter w, DateTimeOffset expires)
    {
        w.WriteStartObject();
        w.WriteString(Names.LeaseExpiresAt, expires);
        w.WriteEndObject();
    }

    public static void Stale(Utf8JsonWriter w, StaleWork stale)
    {
        w.WriteStartObject();
        w.WriteStartArray(Names.ExpiredLeases);
        foreach (var l in stale.ExpiredLeases)
        {
            w.WriteStartObject();
            UuidText.Write(w, Names.TaskUuid, l.TaskUuid);
            UuidText.Write(w, Names.StepUuid, l.StepUuid);
            w.WriteString(Names.StepName, l.StepName);
            w.WriteString(Names.LeaseExpiresAt, l.LeaseExpiresAt);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray(Names.RetryDue);
        foreach (var r in stale.RetryDue)
        {
            w.WriteStartObject();
            UuidText.Write(w, Names.TaskUuid, r.TaskUuid);
            w.WriteString(Names.NextRetryAt, r.NextRetryAt);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray(Names.UnclaimedSteps);
        foreach (var u in stale.UnclaimedSteps)
        {
            w.WriteStartObject();
            UuidText.Write(w, Names.TaskUuid, u.TaskUuid);
            UuidText.Write(w, Names.StepUuid, u.StepUuid);
            w.WriteString(Names.StepName, u.StepName);
            w.WriteString(Names.Handler, u.Handler);
            w.WriteString(Names.ReadySince, u.ReadySince);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray(Names.UndrivenTasks);
        foreach (var t in stale.UndrivenTasks)
        {
            w.WriteStartObject();
            UuidText.Write(w, Names.TaskUuid, t.TaskUuid);
            w.WriteString(Names.Namespace, t.Namespace);
            w.WriteString(Names.Name, t.Name);
            w.WriteString(Names.PendingSince, t.PendingSince);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray(Names.TaskUuids);
        foreach (var uuid in stale.TaskUuids) UuidText.WriteValue(w, uuid);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void Health(Utf8JsonWriter w, EngineHealth health)
    {
        w.WriteStartObject();
        w.WriteBoolean(Names.Healthy, health.Healthy);
        OptionalString(w, Names.Error, health.Error);
        w.WriteNumber(Names.ExpiredLeases, health.ExpiredLeases);
        w.WriteNumber(Names.RetriesDue, health.RetriesDue);
        if (health.Stats is { } stats)
        {
            w.WriteString(Names.Store, stats.Store);
            Counts(w, Names.Tasks, stats.TasksByState);
            Counts(w, Names.Steps, stats.StepsByState);
            OptionalTime(w, Names.OldestUnfinishedTaskCreatedAt, stats.OldestUnfinishedTaskCreatedAt);
            if (stats.PoolInUse is { } inUse) w.WriteNumber(Names.PoolInUse, inUse);
            if (stats.PoolSize is { } size) w.WriteNumber(Names.PoolSize, size);
        }
        Counts(w, Names.ReadyStepsByHandler, health.ReadyStepsByHandler);
        if (health.Memory is { } memory) Memory(w, memory);
        w.WriteEndObject();
    }

    private static void Memory(Utf8JsonWriter w, ManagedMemory m)
    {
        w.WriteStartObject(Names.Memory);
        w.WriteNumber(Names.HeapSizeBytes, m.HeapSizeBytes);
        w.WriteNumber(Names.CommittedBytes, m.CommittedBytes);
        w.WriteNumber(Names.FragmentedBytes, m.FragmentedBytes);
        w.WriteNumber(Names.TotalAllocatedBytes, m.TotalAllocatedBytes);
        w.WriteStartObject(Names.GcCounts);
        w.WriteNumber(Names.Gen0, m.Gen0Collections);
        w.WriteNumber(Names.Gen1, m.Gen1Collections);
        w.WriteNumber(Names.Gen2, m.Gen2Collections);
        w.WriteEndObject();
        w.WriteNumber(Names.GcPauseTimePercent, Math.Round(m.PauseTimePercentage, 2));
        w.WriteEndObject();
    }

    private static void Counts(Utf8JsonWriter w, JsonEncodedText name, IReadOnlyDictionary<string, long> counts)
    {
        w.WriteStartObject(name);
        foreach (var (state, count) in counts) w.WriteNumber(state, count);
        w.WriteEndObject();
    }

    public static void Events(Utf8JsonWriter w, (IReadOnlyList<TaskerEvent> Events, long Dropped) batch)
    {
        w.WriteStartObject();
        w.WriteStartArray(Names.Events);
        foreach (var e in batch.Events) Event(w, e);
        w.WriteEndArray();
        w.WriteNumber(Names.Dropped, batch.Dropped);
        w.WriteEndObject();
    }

    private static void Event(Utf8JsonWriter w, TaskerEvent e)
    {
        w.WriteStartObject();
        w.WriteNumber(Names.Sequence, e.Sequence);
        w.WriteString(Names.Name, e.Name);
        w.WriteString(Names.Timestamp, e.Timestamp);
        if (e.TaskUuid is { } task) UuidText.Write(w, Names.TaskUuid, task);
        OptionalString(w, Names.TaskName, e.TaskName);
        OptionalString(w, Names.Namespace, e.Namespace);
        if (e.StepUuid is { } step) UuidText.Write(w, Names.StepUuid, step);
        OptionalString(w, Names.StepName, e.StepName);
        OptionalString(w, Names.FromState, e.FromState);
        OptionalString(w, Names.ToState, e.ToState);
        if (e.Attempt is { } attempt) w.WriteNumber(Names.Attempt, attempt);
        if (e.DurationMs is { } duration) w.WriteNumber(Names.DurationMs, duration);
        OptionalString(w, Names.Reason, e.Reason);
        OptionalString(w, Names.Actor, e.Actor);
        if (e.Error is { } error)
        {
            w.WritePropertyName(Names.Error);
            Error(w, error);
        }
        if (e.Data is { } data)
        {
            w.WriteStartObject(Names.Data);
            foreach (var (key, value) in data)
            {
                w.WritePropertyName(key);
                value.WriteTo(w);
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter w, JsonEncodedText name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static void OptionalString(Utf8JsonWriter w, JsonEncodedText name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }

    private static void OptionalTime(Utf8JsonWriter w, JsonEncodedText name, DateTimeOffset? value)
    {
        if (value is { } v) w.WriteString(name, v);
        else w.WriteNull(name);
    }

    private static void OptionalJson(Utf8JsonWriter w, JsonEncodedText name, JsonElement? value)
    {
        w.WritePropertyName(name);
        if (value is { } v) v.WriteTo(w);
        else w.WriteNullValue();
    }
}
