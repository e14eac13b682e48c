using System.Security.Cryptography;
using System.Text.Json;
using Tasker.Core.Events;
using Tasker.Core.Templates;

namespace Tasker.Core;

/// <summary>Materializes a new task (its steps and edges) from a template and a request.</summary>
internal static class TaskFactory
{
    private const int MaxTags = 64;
    private const int MaxShortText = 1024;

    public static WorkflowTask Create(TaskTemplate template, TaskRequest request, TaskerOptions options, DateTimeOffset now)
    {
        // Microseconds, as PostgreSQL keeps them: the task as created is the task as stored (the creator's view of it
        // is built from this instance, not read back).
        now = Microseconds(now.ToUniversalTime());
        var context = request.Context is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } c ? c : JsonValues.EmptyObject;
        if (context.ValueKind != JsonValueKind.Object)
            throw TaskerException.InvalidArgument("context must be a JSON object", "context");
        NulText.Refuse(context, "context");
        template.Validator?.Validate(context, template.Key);
        if (request.Tags.Count > MaxTags)
            throw TaskerException.InvalidArgument($"at most {MaxTags} tags are allowed", "tags");
        CheckShort(request.Initiator, "initiator");
        CheckShort(request.SourceSystem, "source_system");
        CheckShort(request.Reason, "reason");
        CheckShort(request.IdempotencyKey, "idempotency_key");
        CheckShort(request.CorrelationId, "correlation_id");
        Telemetry.TraceParent.Parse(request.TraceParent);
        foreach (var tag in request.Tags)
            CheckShort(tag, "tags");
        if (request.BypassSteps.Count > template.Steps.Count)
            throw TaskerException.InvalidArgument($"bypass_steps names {request.BypassSteps.Count} steps; the template has {template.Steps.Count}", "bypass_steps");

        var header = new TaskHeader
        {
            Uuid = Ids.NewV7(now),
            Namespace = template.Namespace,
            Name = template.Name,
            Version = template.Version.ToString(),
            State = TaskState.Pending,
            Context = context,
            Tags = request.Tags.ToArray(),
            Priority = request.Priority,
            Initiator = request.Initiator,
            SourceSystem = request.SourceSystem,
            Reason = request.Reason,
            CorrelationId = request.CorrelationId,
            IdempotencyKey = request.IdempotencyKey,
            Identity = Identity(template, request, context),
            FailFast = template.FailFast,
            TimeoutSeconds = template.TimeoutSeconds,
            TraceParent = string.IsNullOrEmpty(request.TraceParent) ? null : request.TraceParent,
            CreatedAt = now,
            RequestedAt = request.RequestedAt is { } requested ? Microseconds(requested.ToUniversalTime()) : now,
            UpdatedAt = now,
        };

        var steps = new WorkflowStep[template.Steps.Count];
        for (var i = 0; i < steps.Length; i++)
        {
            var t = template.Steps[i];
            steps[i] = new WorkflowStep
            {
                Uuid = Ids.NewV7(now),
                Index = i,
                Name = t.Name,
                Handler = t.Handler,
                Initialization = t.Initialization,
                Retryable = t.Retry.Retryable,
                MaxAttempts = t.Retry.MaxAttempts ?? options.MaxAttempts,
                BackoffBaseSeconds = t.Retry.BackoffBaseSeconds,
                MaxBackoffSeconds = t.Retry.MaxBackoffSeconds,
                TimeoutSeconds = t.TimeoutSeconds,
                State = StepState.Pending,
            };
        }

        var task = new WorkflowTask(header, steps, template.Graph);
        task.NewTransitions.Add(new TransitionRecord(null, null, null, TaskState.Pending.ToWire(), "created", request.Initiator, now, null));
        Bypass(task, template, request, now);
        return task;
    }

    private const string Bypassed = "bypassed (bypass_steps)";
    private static readonly JsonElement BypassedMetadata = JsonValues.Parse("{\"bypassed\": true}", "metadata");

    /// <summary>
    /// Rails Tasker's <c>bypass_steps</c>: a skippable step named there never runs. It is completed at creation, so
    /// its dependents become ready and the task can complete; the audit trail says why.
    /// </summary>
    private static void Bypass(WorkflowTask task, TaskTemplate template, TaskRequest request, DateTimeOffset now)
    {
        if (request.BypassSteps.Count == 0) return;
        foreach (var name in request.BypassSteps.Distinct(StringComparer.Ordinal))
        {
            var index = task.IndexOf(name);
            if (index < 0)
                throw TaskerException.InvalidArgument(
                    $"bypass_steps names '{(name.Length > 64 ? name[..64] + "..." : name)}', which is not a step of '{template.Key}'", "bypass_steps");
            if (!template.Steps[index].Skippable)
                throw TaskerException.InvalidArgument(
                    $"bypass_steps names '{name}', which '{template.Key}' does not mark skippable (add skippable: true to the step)", "bypass_steps");
            // Complete rather than resolved_manually: nobody intervened, so the task still finishes `complete`
            // (as in Rails Tasker). No attempt is counted; the audit trail and the metadata say it was bypassed.
            task.TransitionStep(index, StepState.InProgress, Bypassed, request.Initiator, now);
            task.Steps[index].Metadata = BypassedMetadata;
            task.Steps[index].FinishedAt = now;
            task.TransitionStep(index, StepState.Complete, Bypassed, request.Initiator, now);
        }
    }

    private static string? Identity(TaskTemplate template, TaskRequest request, JsonElement context)
    {
        if (request.IdempotencyKey is { } key)
            return "key:" + key;
        if (template.IdentityStrategy == IdentityStrategy.Strict)
            return "ctx:" + Convert.ToHexStringLower(SHA256.HashData(JsonValues.Canonicalize(context)));
        return null;
    }

    private static void CheckShort(string? value, string field)
    {
        if (value is not null && value.Length > MaxShortText)
            throw TaskerException.InvalidArgument($"{field} is longer than {MaxShortText} characters", field);
        NulText.Refuse(value, field);
    }

    public static TaskerEvent CreatedEvent(WorkflowTask task) => new()
    {
        Name = EventNames.TaskCreated,
        Timestamp = task.Header.CreatedAt,
        TaskUuid = task.Uuid,
        TaskName = task.Header.Name,
        Namespace = task.Header.Namespace,
        ToState = TaskState.Pending.ToWire(),
        Reason = "created",
        Actor = task.Header.Initiator,
    };

    /// <summary>Truncated toward 2000-01-01, as Npgsql writes a timestamptz (microseconds since then).</summary>
    private static DateTimeOffset Microseconds(DateTimeOffset time)
    {
        var sinceEpoch = time.Ticks - PostgresEpochTicks;
        return new(time.Ticks - sinceEpoch % TimeSpan.TicksPerMicrosecond, time.Offset);
    }

    private static readonly long PostgresEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
}
