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
    /// <summary>Ready steps exist that the caller can run: claim and run them now.</summary>
    Execute,
    /// <summary>
    /// Nothing the caller can run is ready before <see cref="TaskOutcome.DelaySeconds"/>: a retry time, or ready steps
    /// whose handlers only other workers have (<see cref="TaskOutcome.WaitingForHandlers"/>). Come back then.
    /// </summary>
    Reenqueue,
    /// <summary>Steps are in flight elsewhere; whoever finishes them drives the task on.</summary>
    Wait,
    Complete,
    Error,
    Cancelled,
}

/// <summary>Ready steps waiting for one handler (in an outcome: a handler the caller does not have).</summary>
public sealed record HandlerWait(string Handler, IReadOnlyList<string> Steps)
{
    /// <summary>Adds a step to its handler's wait in <paramref name="waits"/> (made on first use); handlers keep the
    /// order they first appear in, steps the order they are added.</summary>
    internal static void Add(ref List<HandlerWait>? waits, string handler, string step)
    {
        var wait = waits?.Find(w => w.Handler == handler);
        if (wait is null) (waits ??= []).Add(new HandlerWait(handler, new List<string> { step }));
        else ((List<string>)wait.Steps).Add(step);
    }
}

/// <summary>The result of evaluating a task, returned by every call that changes one.</summary>
/// <param name="Finalized">True only in the one call that moved the task into its final state.</param>
/// <param name="WaitingForHandlers">Ready steps the caller could not claim because it lacks their handler (empty when
/// the call named no handlers).</param>
public sealed record TaskOutcome(
    Guid TaskUuid,
    TaskState TaskState,
    ExecutionStatus Status,
    RecommendedAction Action,
    double? DelaySeconds,
    int ReadySteps,
    int InProgressSteps,
    bool Finalized,
    IReadOnlyList<HandlerWait>? WaitingForHandlers = null)
{
    /// <summary>
    /// The one rule every queue adapter follows: re-drive the task after this many seconds, or not at all (null).
    /// <c>execute</c> → 0 (ready steps remain), <c>reenqueue</c> → its delay; <c>wait</c> and finished tasks → null
    /// (whoever finishes the steps in flight drives the task on; a finished task needs nothing).
    /// </summary>
    public double? RequeueAfterSeconds => Action switch
    {
        RecommendedAction.Execute => 0,
        RecommendedAction.Reenqueue => DelaySeconds ?? 0,
        _ => null,
    };
}

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
