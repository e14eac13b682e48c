namespace Tasker.Core.Storage.Memory;

/// <summary>Worker mode on the memory store: claims across the unfinished tasks with ready steps of the asked handlers.</summary>
public sealed partial class MemoryStore
{
    public ValueTask<WorkFound> ClaimReadyTasksAsync(WorkQuery query, DateTimeOffset now, Action<IReadOnlyList<WorkflowTask>> change,
        Action<WorkflowTask>? committed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(change);
        // In the order the PostgreSQL store's find walks: priority, then when the task's work became claimable.
        var candidates = new List<(int Priority, DateTimeOffset ClaimableAt, Guid Uuid, Entry Entry)>();
        foreach (var entry in _tasks.Values)
        {
            var header = entry.Task.Header;
            if (query.Namespaces is { } namespaces && !namespaces.Contains(header.Namespace)) continue;
            lock (entry)
            {
                if (!entry.Task.State.IsFinished() && HasReadyStep(entry.Task, query.Handlers, now))
                    candidates.Add((header.Priority, entry.Task.ClaimableAt() ?? header.CreatedAt, header.Uuid, entry));
            }
        }
        candidates.Sort(static (a, b) => b.Priority != a.Priority ? b.Priority.CompareTo(a.Priority)
            : a.ClaimableAt != b.ClaimableAt ? a.ClaimableAt.CompareTo(b.ClaimableAt) : a.Uuid.CompareTo(b.Uuid));

        // Held in order of work, never waited for: a task another thread holds is passed over, so two claims cannot
        // deadlock whatever they reach for.
        var held = new List<Entry>(Math.Min(query.Limit, candidates.Count));
        var othersHeldSome = false;
        var retired = new List<Guid>();
        try
        {
            foreach (var candidate in candidates)
            {
                if (held.Count >= query.Limit) break;
                if (!Monitor.TryEnter(candidate.Entry))
                {
                    othersHeldSome = true;
                    continue;
                }
                if (candidate.Entry.Task.State.IsFinished() || !HasReadyStep(candidate.Entry.Task, query.Handlers, now))
                {
                    Monitor.Exit(candidate.Entry); // taken by another claim between the look and the hold
                    othersHeldSome = true;
                    continue;
                }
                held.Add(candidate.Entry);
            }

            var wasTerminal = held.ConvertAll(e => e.Task.State.IsTerminal());
            try
            {
                change(held.ConvertAll(e => e.Task));
                foreach (var entry in held)
                {
                    if (entry.Task.NewTransitions.Count == 0 && entry.Task.DirtySteps.Count == 0 && !entry.Task.HeaderDirty) continue;
                    entry.History.Append(entry.Task, entry.Task.NewTransitions);
                    committed?.Invoke(entry.Task);
                }
            }
            finally
            {
                for (var i = 0; i < held.Count; i++)
                {
                    held[i].Task.AcceptChanges();
                    if (!wasTerminal[i] && held[i].Task.State.IsTerminal()) retired.Add(held[i].Task.Uuid);
                }
            }
        }
        finally
        {
            foreach (var entry in held) Monitor.Exit(entry);
        }
        foreach (var uuid in retired) Retire(uuid);
        return ValueTask.FromResult(new WorkFound(othersHeldSome, [], []));
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
