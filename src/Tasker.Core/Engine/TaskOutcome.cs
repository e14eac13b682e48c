namespace Tasker.Core;

/// <summary>Where a task stands after an evaluation.</summary>
public enum ExecutionStatus
{
    HasReadySteps,
    Processing,
    WaitingForRetry,
    BlockedByFailures,
    AllComplete,
}

/// <summary>What the host should do next with the task.</summary>
public enum RecommendedAction
{
    /// <summary>Ready steps exist: claim and run them now.</summary>
    Execute,
    /// <summary>Nothing is ready until a retry time: come back after <see cref="TaskOutcome.DelaySeconds"/>.</summary>
    Reenqueue,
    /// <summary>Steps are in flight elsewhere; whoever finishes them drives the task on.</summary>
    Wait,
    Complete,
    Error,
    Cancelled,
}

/// <summary>The result of evaluating a task, returned by every call that changes one.</summary>
/// <param name="Finalized">True only in the one call that moved the task into its final state.</param>
public sealed record TaskOutcome(
    Guid TaskUuid,
    TaskState TaskState,
    ExecutionStatus Status,
    RecommendedAction Action,
    double? DelaySeconds,
    int ReadySteps,
    int InProgressSteps,
    bool Finalized);

public static class OutcomeNames
{
    public static string ToWire(this ExecutionStatus status) => status switch
    {
        ExecutionStatus.HasReadySteps => "has_ready_steps",
        ExecutionStatus.Processing => "processing",
        ExecutionStatus.WaitingForRetry => "waiting_for_retry",
        ExecutionStatus.BlockedByFailures => "blocked_by_failures",
        _ => "all_complete",
    };

    public static string ToWire(this RecommendedAction action) => action switch
    {
        RecommendedAction.Execute => "execute",
        RecommendedAction.Reenqueue => "reenqueue",
        RecommendedAction.Wait => "wait",
        RecommendedAction.Complete => "complete",
        RecommendedAction.Error => "error",
        _ => "cancelled",
    };
}
