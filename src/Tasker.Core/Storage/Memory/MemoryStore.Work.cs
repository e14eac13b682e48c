namespace Tasker.Core.Storage.Memory;

/// <summary>Worker mode on the memory store: which unfinished tasks have ready steps of the asked handlers.</summary>
public sealed partial class MemoryStore
{
    public ValueTask<IReadOnlyList<ReadyTask>> FindReadyTasksAsync(WorkQuery query, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var found = new List<(int Priority, DateTimeOffset CreatedAt, Guid Uuid)>();
        foreach (var entry in _tasks.Values)
        {
            var header = entry.Task.Header;
            if (query.Namespaces is { } namespaces && !namespaces.Contains(header.Namespace)) continue;
            lock (entry)
            {
                if (!entry.Task.State.IsFinished() && HasReadyStep(entry.Task, query.Handlers, now))
                    found.Add((header.Priority, header.CreatedAt, header.Uuid));
            }
        }
        IReadOnlyList<ReadyTask> ordered = found
            .OrderByDescending(t => t.Priority).ThenBy(t => t.CreatedAt).ThenBy(t => t.Uuid)
            .Take(Math.Max(query.Limit, 0)).Select(t => new ReadyTask(t.Uuid, t.Priority)).ToArray();
        return ValueTask.FromResult(ordered);
    }

    /// <summary>A step of one of the handlers that is ready, or in progress with its lease expired (its worker is
    /// presumed dead: the claim expires the lease and takes the step again).</summary>
    private static bool HasReadyStep(WorkflowTask task, IReadOnlySet<string> handlers, DateTimeOffset now)
    {
        foreach (var i in task.Candidates)
        {
            var step = task.Steps[i];
            if (handlers.Contains(step.Handler) && (step.State == StepState.Pending || step.NextRetryAt is not { } at || at <= now))
                return true;
        }
        foreach (var i in task.InFlight)
        {
            var step = task.Steps[i];
            if (handlers.Contains(step.Handler) && step.LeaseExpiresAt is { } expires && expires <= now)
                return true;
        }
        return false;
    }
}
