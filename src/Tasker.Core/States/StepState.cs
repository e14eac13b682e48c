namespace Tasker.Core;

/// <summary>The states of a workflow step (DESIGN.md section 3).</summary>
public enum StepState : byte
{
    Pending,
    InProgress,
    WaitingForRetry,
    Complete,
    /// <summary>Permanent: retries exhausted or the failure was not retryable.</summary>
    Error,
    Cancelled,
    ResolvedManually,
}
