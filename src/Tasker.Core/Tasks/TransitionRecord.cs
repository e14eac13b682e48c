namespace Tasker.Core;

/// <summary>
/// One entry of the append-only audit trail: a task transition (<see cref="StepUuid"/> null) or a step transition.
/// <see cref="From"/> is null for the initial state of a new task.
/// </summary>
public sealed record TransitionRecord(
    Guid? StepUuid,
    string? StepName,
    string? From,
    string To,
    string Reason,
    string? Actor,
    DateTimeOffset At,
    int? Attempt);
