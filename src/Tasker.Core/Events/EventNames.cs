namespace Tasker.Core.Events;

/// <summary>
/// The event catalog (documented in docs/events.md). Names are <c>task.*</c>, <c>step.*</c> and <c>workflow.*</c>;
/// every state transition maps to exactly one name.
/// </summary>
public static class EventNames
{
    public const string TaskCreated = "task.created";
    public const string TaskStarted = "task.started";
    public const string TaskResumed = "task.resumed";
    public const string TaskWaitingForRetry = "task.waiting_for_retry";
    public const string TaskCompleted = "task.completed";
    public const string TaskFailed = "task.failed";
    public const string TaskCancelled = "task.cancelled";
    public const string TaskResolvedManually = "task.resolved_manually";
    public const string TaskRetried = "task.retried";

    public const string StepStarted = "step.started";
    public const string StepCompleted = "step.completed";
    public const string StepRetryScheduled = "step.retry_scheduled";
    public const string StepFailed = "step.failed";
    public const string StepCancelled = "step.cancelled";
    public const string StepResolvedManually = "step.resolved_manually";
    public const string StepReset = "step.reset";
    public const string StepLeaseExpired = "step.lease_expired";

    public const string ViableStepsDiscovered = "workflow.viable_steps_discovered";
    public const string TaskEvaluated = "workflow.task_evaluated";
    public const string TaskReenqueued = "workflow.task_reenqueued";
    public const string TemplateRegistered = "workflow.template_registered";

    /// <summary>
    /// Log records, when a host asks for them as events (libtasker's <c>"log": {"sink": "events"}</c>): one name per
    /// level, <c>data</c> = <c>{level, category, event_id, message}</c> plus the record's named values.
    /// </summary>
    public const string LogTrace = "log.trace";
    public const string LogDebug = "log.debug";
    public const string LogInformation = "log.information";
    public const string LogWarning = "log.warning";
    public const string LogError = "log.error";
    public const string LogCritical = "log.critical";

    /// <summary>Every name, in catalog order.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        TaskCreated, TaskStarted, TaskResumed, TaskWaitingForRetry, TaskCompleted, TaskFailed, TaskCancelled,
        TaskResolvedManually, TaskRetried,
        StepStarted, StepCompleted, StepRetryScheduled, StepFailed, StepCancelled, StepResolvedManually, StepReset,
        StepLeaseExpired,
        ViableStepsDiscovered, TaskEvaluated, TaskReenqueued, TemplateRegistered,
        LogTrace, LogDebug, LogInformation, LogWarning, LogError, LogCritical,
    ];

    public static string ForTaskTransition(TaskState from, TaskState to) => to switch
    {
        TaskState.Pending => TaskRetried,
        TaskState.InProgress => from == TaskState.Pending ? TaskStarted : TaskResumed,
        TaskState.WaitingForRetry => TaskWaitingForRetry,
        TaskState.Complete => TaskCompleted,
        TaskState.Error => TaskFailed,
        TaskState.Cancelled => TaskCancelled,
        _ => TaskResolvedManually,
    };

    public static string ForStepTransition(StepState from, StepState to) => to switch
    {
        StepState.Pending => StepReset,
        StepState.InProgress => StepStarted,
        StepState.WaitingForRetry => StepRetryScheduled,
        StepState.Complete => StepCompleted,
        StepState.Error => StepFailed,
        StepState.Cancelled => StepCancelled,
        _ => StepResolvedManually,
    };
}
