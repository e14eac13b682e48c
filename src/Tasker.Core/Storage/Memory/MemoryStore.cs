using System.Collections.Concurrent;
using Tasker.Core.Templates;

namespace Tasker.Core.Storage.Memory;

/// <summary>
/// The embedded default store: everything in this process's memory, nothing to set up. Thread-safe: each task is
/// guarded by its own monitor, so workers on different tasks never contend. Finished tasks beyond
/// <see cref="TaskerOptions.MaxFinishedTasks"/> are evicted oldest first (tasks in <c>error</c> are kept for
/// operators to retry).
/// </summary>
public sealed partial class MemoryStore(int maxFinishedTasks = 10_000) : IStore
{
    private sealed class Entry(WorkflowTask task)
    {
        public WorkflowTask Task { get; } = task;
        public AuditTrail History { get; } = new(task.Steps.Count);
    }

    private readonly ConcurrentDictionary<Guid, Entry> _tasks = new();
    private readonly ConcurrentDictionary<(string Ns, string Name, string Identity), Guid> _identities = new();
    private readonly ConcurrentQueue<Guid> _finished = new();
    private readonly object _createGate = new();
    private readonly object _templateGate = new();
    private readonly Dictionary<(string Ns, string Name), SortedList<TemplateVersion, TaskTemplate>> _templates = [];

    public int TaskCount => _tasks.Count;

    public ValueTask MigrateAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask SaveTemplateAsync(TaskTemplate template, CancellationToken cancellationToken)
    {
        lock (_templateGate)
        {
            if (!_templates.TryGetValue((template.Namespace, template.Name), out var versions))
                _templates[(template.Namespace, template.Name)] = versions = [];
            versions[template.Version] = template;
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<TaskTemplate?> FindTemplateAsync(string ns, string name, string? version, CancellationToken cancellationToken)
    {
        lock (_templateGate)
        {
            if (!_templates.TryGetValue((ns, name), out var versions) || versions.Count == 0)
                return ValueTask.FromResult<TaskTemplate?>(null);
            if (version is null)
                return ValueTask.FromResult<TaskTemplate?>(versions.Values[^1]);
            return ValueTask.FromResult(versions.GetValueOrDefault(TemplateVersion.Parse(version)));
        }
    }

    public ValueTask<(Guid TaskUuid, bool Created)> CreateTaskAsync(WorkflowTask task, CancellationToken cancellationToken)
    {
        var identity = task.Header.Identity;
        if (identity is null)
        {
            Insert(task);
            return ValueTask.FromResult((task.Uuid, true));
        }

        // One gate for creations with an identity: the check and the insert must be one step.
        lock (_createGate)
        {
            var key = (task.Header.Namespace, task.Header.Name, identity);
            if (_identities.TryGetValue(key, out var existing) && _tasks.ContainsKey(existing))
                return ValueTask.FromResult((existing, false));
            Insert(task);
            _identities[key] = task.Uuid;
            return ValueTask.FromResult((task.Uuid, true));
        }
    }

    private void Insert(WorkflowTask task)
    {
        var entry = new Entry(task);
        entry.History.Append(task, task.NewTransitions);
        task.AcceptChanges();
        _tasks[task.Uuid] = entry;
    }

    public ValueTask<T> UpdateTaskAsync<T>(Guid taskUuid, Func<WorkflowTask, T> change, Action<WorkflowTask>? committed, CancellationToken cancellationToken)
    {
        var entry = Find(taskUuid);
        T result;
        bool retired;
        lock (entry)
        {
            var wasTerminal = entry.Task.State.IsTerminal();
            try
            {
                result = change(entry.Task);
                entry.History.Append(entry.Task, entry.Task.NewTransitions);
                committed?.Invoke(entry.Task);
            }
            finally
            {
                entry.Task.AcceptChanges();
            }
            retired = !wasTerminal && entry.Task.State.IsTerminal();
        }
        if (retired)
            Retire(taskUuid);
        return ValueTask.FromResult(result);
    }

    public ValueTask<T> ReadTaskAsync<T>(Guid taskUuid, Func<WorkflowTask, T> read, CancellationToken cancellationToken)
    {
        var entry = Find(taskUuid);
        lock (entry)
            return ValueTask.FromResult(read(entry.Task));
    }

    public ValueTask<IReadOnlyList<TransitionRecord>> GetTransitionsAsync(Guid taskUuid, CancellationToken cancellationToken)
    {
        var entry = Find(taskUuid);
        lock (entry)
            return ValueTask.FromResult<IReadOnlyList<TransitionRecord>>(entry.History.ToArray(entry.Task));
    }

    public ValueTask<IReadOnlyList<TaskSummary>> ListTasksAsync(TaskQuery query, CancellationToken cancellationToken)
    {
        var rows = new List<TaskSummary>();
        foreach (var entry in _tasks.Values)
        {
            var h = entry.Task.Header;
            if (query.Namespace is not null && h.Namespace != query.Namespace) continue;
            if (query.Name is not null && h.Name != query.Name) continue;
            if (query.CreatedAfter is { } after && h.CreatedAt <= after) continue;
            if (query.CreatedBefore is { } before && h.CreatedAt >= before) continue;
            TaskState state;
            DateTimeOffset updated;
            lock (entry)
            {
                state = h.State;
                updated = h.UpdatedAt;
            }
            if (query.State is { } wanted && state != wanted) continue;
            rows.Add(new TaskSummary(h.Uuid, h.Namespace, h.Name, h.Version, state, h.CreatedAt, updated));
        }
        IReadOnlyList<TaskSummary> page = rows
            .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.TaskUuid)
            .Skip(query.Offset).Take(Math.Max(query.Limit, 0)).ToArray();
        return ValueTask.FromResult(page);
    }

    public ValueTask<StaleWork> ListStaleWorkAsync(DateTimeOffset now, int limit, StaleThresholds thresholds, CancellationToken cancellationToken)
    {
        var leases = new List<ExpiredLease>();
        var retries = new List<RetryDue>();
        var unclaimed = new List<UnclaimedStep>();
        var undriven = new List<UndrivenTask>();
        var readyBefore = now - thresholds.UnclaimedAfter;
        var pendingBefore = now - thresholds.PendingAfter;
        foreach (var entry in _tasks.Values)
        {
            lock (entry)
            {
                var task = entry.Task;
                if (task.State.IsFinished()) continue;
                foreach (var i in task.InFlight)
                    if (task.Steps[i].LeaseExpiresAt is { } expires && expires <= now)
                        leases.Add(new ExpiredLease(task.Uuid, task.Steps[i].Uuid, task.Steps[i].Name, expires));
                if (task.State == TaskState.WaitingForRetry && task.InFlight.Length == 0)
                {
                    DateTimeOffset? earliest = null;
                    foreach (var i in task.Candidates)
                        if (task.Steps[i].NextRetryAt is { } at && (earliest is null || at < earliest))
                            earliest = at;
                    if (earliest is { } due && due <= now)
                        retries.Add(new RetryDue(task.Uuid, due));
                }
                if (task.State == TaskState.Pending && task.Header.UpdatedAt <= pendingBefore)
                    undriven.Add(new UndrivenTask(task.Uuid, task.Header.Namespace, task.Header.Name, task.Header.UpdatedAt));
                AddUnclaimed(entry, now, readyBefore, unclaimed);
            }
        }
        // Oldest first, like the PostgreSQL queries, so a limit keeps the longest-stuck work.
        return ValueTask.FromResult(new StaleWork(
            leases.OrderBy(l => l.LeaseExpiresAt).Take(limit).ToArray(),
            retries.OrderBy(r => r.NextRetryAt).Take(limit).ToArray(),
            unclaimed.OrderBy(u => u.ReadySince).Take(limit).ToArray(),
            undriven.OrderBy(u => u.PendingSince).Take(limit).ToArray()));
    }

    public ValueTask<WorkCounts> CountWorkAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var byHandler = new Dictionary<string, long>(StringComparer.Ordinal);
        long leases = 0, retries = 0;
        foreach (var entry in _tasks.Values)
        {
            lock (entry)
            {
                var task = entry.Task;
                if (task.State.IsFinished()) continue;
                foreach (var i in task.InFlight)
                    if (task.Steps[i].LeaseExpiresAt is { } expires && expires <= now)
                        leases++;
                var retryDue = false;
                foreach (var i in task.Candidates)
                {
                    var step = task.Steps[i];
                    if (step.State == StepState.WaitingForRetry && (step.NextRetryAt is not { } at || at > now)) continue;
                    retryDue |= step.State == StepState.WaitingForRetry;
                    byHandler[step.Handler] = byHandler.GetValueOrDefault(step.Handler) + 1;
                }
                // As the listing counts them: a task waiting for retry with nothing in flight and its earliest retry due.
                if (retryDue && task.State == TaskState.WaitingForRetry && task.InFlight.Length == 0)
                    retries++;
            }
        }
        return ValueTask.FromResult(new WorkCounts(byHandler, leases, retries));
    }

    /// <summary>Ready steps of one task (the caller holds its lock) that became ready at or before <paramref name="readyBefore"/>.</summary>
    private static void AddUnclaimed(Entry entry, DateTimeOffset now, DateTimeOffset readyBefore, List<UnclaimedStep> into)
    {
        var task = entry.Task;
        foreach (var i in task.Candidates)
        {
            var step = task.Steps[i];
            if (step.State == StepState.WaitingForRetry && (step.NextRetryAt is not { } at || at > now)) continue;
            var since = task.Header.CreatedAt;
            foreach (var parent in task.Graph.ParentsOf(i))
                if (task.Steps[parent].FinishedAt is { } finished && finished > since) since = finished;
            if (entry.History.LastChangeOf(i) is { } changed && changed > since) since = changed;
            if (step.State == StepState.WaitingForRetry && step.NextRetryAt is { } retryAt && retryAt > since) since = retryAt;
            if (since <= readyBefore)
                into.Add(new UnclaimedStep(task.Uuid, step.Uuid, step.Name, step.Handler, since));
        }
    }

    public ValueTask<StoreStats> GetStatsAsync(CancellationToken cancellationToken)
    {
        var tasks = new long[7];
        var steps = new long[7];
        DateTimeOffset? oldest = null;
        foreach (var entry in _tasks.Values)
        {
            lock (entry)
            {
                var task = entry.Task;
                tasks[(int)task.State]++;
                if (task.State.IsFinished()) continue;
                if (oldest is null || task.Header.CreatedAt < oldest) oldest = task.Header.CreatedAt;
                foreach (var state in Enum.GetValues<StepState>())
                    steps[(int)state] += task.CountIn(state);
            }
        }
        return ValueTask.FromResult(new StoreStats("memory",
            Enum.GetValues<TaskState>().ToDictionary(s => s.ToWire(), s => tasks[(int)s]),
            Enum.GetValues<StepState>().ToDictionary(s => s.ToWire(), s => steps[(int)s]),
            oldest));
    }

    private Entry Find(Guid taskUuid) =>
        _tasks.TryGetValue(taskUuid, out var entry) ? entry : throw TaskerException.NotFound("task", taskUuid.ToString());

    private void Retire(Guid taskUuid)
    {
        _finished.Enqueue(taskUuid);
        while (_finished.Count > maxFinishedTasks && _finished.TryDequeue(out var oldest))
        {
            if (!_tasks.TryGetValue(oldest, out var entry)) continue;
            lock (entry)
            {
                if (!entry.Task.State.IsTerminal()) continue;
                _tasks.TryRemove(oldest, out _);
                if (entry.Task.Header.Identity is { } identity)
                    _identities.TryRemove((entry.Task.Header.Namespace, entry.Task.Header.Name, identity), out _);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _tasks.Clear();
        _identities.Clear();
        return ValueTask.CompletedTask;
    }
}
