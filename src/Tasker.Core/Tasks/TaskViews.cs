namespace Tasker.Core;

/// <summary>Builds read-only snapshots of a task, including why each step is or is not ready.</summary>
internal static class TaskViews
{
    // The two common readiness answers, shared (records are immutable): a view allocates less per step.
    private static readonly StepReadiness ReadyNow = new(true, [], null, false);
    private static readonly StepReadiness NotReady = new(false, [], null, false);

    public static TaskView Build(WorkflowTask task, DateTimeOffset now, IReadOnlyList<TransitionRecord> transitions)
    {
        var views = new StepView[task.Steps.Count];
        for (var i = 0; i < views.Length; i++)
        {
            var step = task.Steps[i];
            var parents = task.Graph.ParentsOf(i);
            var dependencies = parents.Length == 0 ? [] : new string[parents.Length];
            List<string>? waitingOn = null;
            for (var p = 0; p < parents.Length; p++)
            {
                var parent = task.Steps[parents[p]];
                dependencies[p] = parent.Name;
                if (!parent.State.IsSatisfied())
                    (waitingOn ??= []).Add(parent.Name);
            }
            var ready = task.IsCandidate(i) && (step.State == StepState.Pending || step.NextRetryAt is null || step.NextRetryAt <= now);
            var exhausted = step.Attempts >= step.MaxAttempts && !step.State.IsSatisfied() && step.State != StepState.InProgress;
            var retryAt = step.State == StepState.WaitingForRetry ? step.NextRetryAt : null;
            var readiness = waitingOn is null && retryAt is null && !exhausted
                ? ready ? ReadyNow : NotReady
                : new StepReadiness(ready, waitingOn ?? [], retryAt, exhausted);
            views[i] = new StepView(step.Uuid, step.Name, step.Handler, step.State, step.Attempts, step.MaxAttempts, step.Retryable,
                step.Result, step.Metadata, step.LastError, step.NextRetryAt, step.LeaseExpiresAt, dependencies, readiness,
                step.StartedAt, step.FinishedAt, step.ClaimedBy);
        }
        var h = task.Header;
        var header = new TaskHeader
        {
            Uuid = h.Uuid, Namespace = h.Namespace, Name = h.Name, Version = h.Version, State = h.State, Context = h.Context,
            Tags = h.Tags, Priority = h.Priority, Initiator = h.Initiator, SourceSystem = h.SourceSystem, Reason = h.Reason,
            CorrelationId = h.CorrelationId, IdempotencyKey = h.IdempotencyKey, Identity = h.Identity, FailFast = h.FailFast,
            CreatedAt = h.CreatedAt, UpdatedAt = h.UpdatedAt, FinishedAt = h.FinishedAt, RequestedAt = h.RequestedAt,
        };
        return new TaskView(header, views, transitions);
    }
}
