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
    StepReadiness Readiness);

/// <summary>A read-only snapshot of a task with all its steps (and, on request, its audit trail).</summary>
public sealed record TaskView(TaskHeader Header, IReadOnlyList<StepView> Steps, IReadOnlyList<TransitionRecord> Transitions)
{
    public Guid TaskUuid => Header.Uuid;
    public TaskState State => Header.State;

    public StepView Step(string name) =>
        Steps.FirstOrDefault(s => s.Name == name) ?? throw TaskerException.NotFound("step", name);
}

/// <summary>The result of creating a task: the task, and whether this call created it.</summary>
public sealed record CreateTaskResult(TaskView Task, bool Created);

/// <summary>One row of a task listing.</summary>
public sealed record TaskSummary(Guid TaskUuid, string Namespace, string Name, string Version, TaskState State, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Filters for listing tasks; newest first.</summary>
public sealed record TaskQuery(TaskState? State = null, string? Namespace = null, string? Name = null, int Limit = 100);

/// <summary>A step whose claim expired (its worker probably died).</summary>
public sealed record ExpiredLease(Guid TaskUuid, Guid StepUuid, string StepName, DateTimeOffset LeaseExpiresAt);

/// <summary>A task waiting for retry whose time has come.</summary>
public sealed record RetryDue(Guid TaskUuid, DateTimeOffset NextRetryAt);

/// <summary>Work nobody is driving: the host should re-enqueue these tasks.</summary>
public sealed record StaleWork(IReadOnlyList<ExpiredLease> ExpiredLeases, IReadOnlyList<RetryDue> RetryDue)
{
    public IReadOnlyList<Guid> TaskUuids =>
        ExpiredLeases.Select(l => l.TaskUuid).Concat(RetryDue.Select(r => r.TaskUuid)).Distinct().ToArray();
}
