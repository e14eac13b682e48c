using Microsoft.Extensions.Logging;

namespace Tasker.Core.Logging;

/// <summary>
/// What the engine logs (category <c>Tasker.Engine</c>). Source-generated: no formatting, boxing or allocation
/// unless the level is enabled. Messages name tasks and steps and say what happened; they never carry contexts,
/// results or handler error messages (which may hold personal data or secrets), only error types.
/// </summary>
internal static partial class EngineLog
{
    public const string Category = "Tasker.Engine";

    [LoggerMessage(1001, LogLevel.Information, "Template {Namespace}/{TaskName} {Version} registered ({StepCount} steps)")]
    public static partial void TemplateRegistered(ILogger logger, string @namespace, string taskName, string version, int stepCount);

    [LoggerMessage(1002, LogLevel.Debug, "Task {TaskUuid} ({Namespace}/{TaskName}) created")]
    public static partial void TaskCreated(ILogger logger, Guid taskUuid, string @namespace, string taskName);

    [LoggerMessage(1003, LogLevel.Information, "Task {TaskUuid} ({Namespace}/{TaskName}) finished: {State}")]
    public static partial void TaskFinished(ILogger logger, Guid taskUuid, string @namespace, string taskName, string state);

    [LoggerMessage(1004, LogLevel.Information, "Step {StepName} of task {TaskUuid} failed on attempt {Attempt} ({ErrorType}); retry in {DelaySeconds} s")]
    public static partial void StepRetryScheduled(ILogger logger, string stepName, Guid taskUuid, int attempt, string errorType, double delaySeconds);

    [LoggerMessage(1005, LogLevel.Warning, "Step {StepName} of task {TaskUuid} failed for good on attempt {Attempt} ({ErrorType}: {Reason})")]
    public static partial void StepFailed(ILogger logger, string stepName, Guid taskUuid, int attempt, string errorType, string reason);

    [LoggerMessage(1006, LogLevel.Warning, "Step {StepName} of task {TaskUuid} lost its lease on attempt {Attempt}: its worker did not report before {LeaseExpiredAt:O}")]
    public static partial void LeaseExpired(ILogger logger, string stepName, Guid taskUuid, int attempt, DateTimeOffset leaseExpiredAt);

    [LoggerMessage(1007, LogLevel.Debug, "Claimed {Count} step(s) of task {TaskUuid} for {WorkerId}")]
    public static partial void StepsClaimed(ILogger logger, int count, Guid taskUuid, string workerId);

    [LoggerMessage(1008, LogLevel.Warning, "Could not announce new work to other processes ({ErrorKind}); their workers find it at their next poll")]
    public static partial void AnnounceFailed(ILogger logger, string errorKind);

    [LoggerMessage(1009, LogLevel.Warning, "A log record, metric or span of task {TaskUuid} failed after its change committed ({ErrorKind}); the change stands")]
    public static partial void AfterCommitFailed(ILogger logger, Guid taskUuid, string errorKind);
}
