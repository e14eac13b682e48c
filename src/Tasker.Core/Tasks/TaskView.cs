using System.Text.Json;

namespace Tasker.Core;

/// <summary>Why a step is or is not ready right now.</summary>
/// <param name="WaitingOn">Parents that are not yet complete or resolved.</param>
/// <param name="RetryAt">For a step waiting for retry: when it becomes claimable.</param>
/// <param name="AttemptsExhausted">No attempts left.</param>
public sealed record StepReadiness(bool Ready, IReadOnlyList<string> WaitingOn, DateTimeOffset? RetryAt, bool AttemptsExhausted);

/// <summary>A read-only snapshot of one step.</summary>
public sealed record StepView(
    Guid StepUuid,
    string Name,
    string Handler,
    StepState State,
    int Attempts,
    int MaxAttempts,
    bool Retryable,
    JsonElement? Result,
    JsonElement? Metadata,
    StepError? Error,
    DateTimeOffset? NextRetryAt,
    DateTimeOffset? LeaseExpiresAt,
    IReadOnlyList<string> Dependencies,
    StepReadiness Readiness,
    DateTimeOffset? StartedAt = null,
    DateTimeOffset? FinishedAt = null,
    string? ClaimedBy = null);

/// <summary>A read-only snapshot of a task with all its steps (and, on request, its audit trail).</summary>
public sealed record TaskView(TaskHeader Header, IReadOnlyList<StepView> Steps, IReadOnlyList<TransitionRecord> Transitions)
{
    public Guid TaskUuid => Header.Uuid;
    public TaskState State => Header.State;

    public StepView Step(string name) =>
        Steps.FirstOrDefault(s => s.Name == name) ?? throw TaskerException.NotFound("step", name);

    /// <summary>
    /// The steps whose <see cref="StepReadiness.Ready"/> is true, grouped by the handler they wait for, in step order:
    /// each waits for a worker that has its handler (the outcome's list names only those the caller lacks). Empty when
    /// none is. Computed on each read.
    /// </summary>
    public IReadOnlyList<HandlerWait> WaitingForHandlers
    {
        get
        {
            List<HandlerWait>? waits = null;
            foreach (var step in Steps)
                if (step.Readiness.Ready) HandlerWait.Add(ref waits, step.Handler, step.Name);
            return waits ?? (IReadOnlyList<HandlerWait>)[];
        }
    }
}

/// <summary>The result of creating a task: the task, and whether this call created it.</summary>
public sealed record CreateTaskResult(TaskView Task, bool Created);

/// <summary>One row of a task listing.</summary>
public sealed record TaskSummary(Guid TaskUuid, string Namespace, string Name, string Version, TaskState State, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Filters for listing tasks; newest first. <paramref name="Offset"/> skips that many rows (paging).</summary>
/// <param name="CreatedAfter">Only tasks created after this time (exclusive).</param>
/// <param name="CreatedBefore">Only tasks created before this time (exclusive).</param>
public sealed record TaskQuery(TaskState? State = null, string? Namespace = null, string? Name = null, int Limit = 100,
    DateTimeOffset? CreatedAfter = null, DateTimeOffset? CreatedBefore = null, int Offset = 0);

/// <summary>A step whose claim expired (its worker probably died).</summary>
public sealed record ExpiredLease(Guid TaskUuid, Guid StepUuid, string StepName, DateTimeOffset LeaseExpiresAt);

/// <summary>A task waiting for retry whose time has come.</summary>
public sealed record RetryDue(Guid TaskUuid, DateTimeOffset NextRetryAt);

/// <summary>
/// A ready step nobody claimed for longer than <see cref="StaleThresholds.UnclaimedAfter"/>: no worker runs its handler,
/// or nobody drove its task since it became ready.
/// </summary>
/// <param name="Handler">The handler the step waits for.</param>
/// <param name="ReadySince">When it became ready: the latest of the task's creation, its parents finishing, its own last
/// transition (an operator retry, an expired lease) and its retry time.</param>
public sealed record UnclaimedStep(Guid TaskUuid, Guid StepUuid, string StepName, string Handler, DateTimeOffset ReadySince);

/// <summary>A task left <c>pending</c> (created, retried or resolved by an operator) that nobody drove since.</summary>
public sealed record UndrivenTask(Guid TaskUuid, string Namespace, string Name, DateTimeOffset PendingSince);

/// <summary>How long ready steps and pending tasks may wait before stale work lists them.</summary>
public sealed record StaleThresholds(TimeSpan UnclaimedAfter, TimeSpan PendingAfter)
{
    /// <summary>Five minutes each: longer than a busy queue's usual delay, short enough that an operator notices.</summary>
    public static StaleThresholds Default { get; } = new(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5));

    internal void Validate()
    {
        if (UnclaimedAfter < TimeSpan.Zero) throw TaskerException.InvalidArgument("unclaimed_after_seconds must not be negative", "unclaimed_after_seconds");
        if (PendingAfter < TimeSpan.Zero) throw TaskerException.InvalidArgument("pending_after_seconds must not be negative", "pending_after_seconds");
    }
}

/// <summary>Work nobody is driving: the host should re-enqueue these tasks.</summary>
public sealed record StaleWork(
    IReadOnlyList<ExpiredLease> ExpiredLeases,
    IReadOnlyList<RetryDue> RetryDue,
    IReadOnlyList<UnclaimedStep> UnclaimedSteps,
    IReadOnlyList<UndrivenTask> UndrivenTasks)
{
    public IReadOnlyList<Guid> TaskUuids =>
        ExpiredLeases.Select(l => l.TaskUuid)
            .Concat(RetryDue.Select(r => r.TaskUuid))
            .Concat(UnclaimedSteps.Select(s => s.TaskUuid))
            .Concat(UndrivenTasks.Select(t => t.TaskUuid))
            .Distinct().ToArray();
}
