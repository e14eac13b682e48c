namespace Tasker.Core;

/// <summary>The states of a task (DESIGN.md section 3).</summary>
public enum TaskState : byte
{
    Pending,
    InProgress,
    WaitingForRetry,
    Complete,
    Error,
    Cancelled,
    /// <summary>Finished, with at least one step resolved by an operator instead of its handler.</summary>
    ResolvedManually,
}
