namespace Tasker.Core;

/// <summary>Builds read-only snapshots of a task, including why each step is or is not ready.</summary>
internal static class TaskViews
{
    public static TaskView Build(WorkflowTask task, DateTimeOffset now, IReadOnlyList<TransitionRecord> transitions)
    {
        var views = new StepView[task.Steps.Count];
        for (var i = 0; i < views.Length; i++)
        {
            var step = task.Steps[i];
            var parents = task.Graph.ParentsOf(i);
            var dependencies = new string[parents.Length];
            var waitingOn = new List<string>();
            for (var p = 0; p < parents.Length; p++)
            {
                var parent = task.Steps[parents[p]];
                dependencies[p] = parent.Name;
                if (!parent.State.IsSatisfied())
                    waitingOn.Add(parent.Name);
            }
            var ready = task.IsCandidate(i) && (step.State == StepState.Pending || step.NextRetryAt is null || step.NextRetryAt <= now);
            var exhausted = step.Attempts >= step.MaxAttempts && !step.State.IsSatisfied() && step.State != StepState.InProgress;
            var readiness = new StepReadiness(ready, waitingOn,
                step.State == StepState.WaitingForRetry ? step.NextRetryAt : null, exhausted);
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
