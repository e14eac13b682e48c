using Tasker.Core.Templates;

namespace Tasker.Core.Storage;

/// <summary>
/// Where templates and tasks live. The engine owns every rule; a store owns durability and mutual exclusion.
/// The central operation is <see cref="UpdateTaskAsync{T}"/>: load one task, run the engine's change on it
/// while no one else can change that task, persist what the change marked (<see cref="WorkflowTask.DirtySteps"/>,
/// <see cref="WorkflowTask.HeaderDirty"/>, <see cref="WorkflowTask.NewTransitions"/>) atomically, then call
/// <c>committed</c>. If the change throws, nothing is persisted.
/// </summary>
public interface IStore : IAsyncDisposable
{
    /// <summary>Applies schema migrations (no-op for stores without a schema).</summary>
    ValueTask MigrateAsync(CancellationToken cancellationToken);

    ValueTask SaveTemplateAsync(TaskTemplate template, CancellationToken cancellationToken);

    /// <summary>Finds a template; a null version means the highest registered version.</summary>
    ValueTask<TaskTemplate?> FindTemplateAsync(string ns, string name, string? version, CancellationToken cancellationToken);

    /// <summary>
    /// The template a create makes its task from. A store may answer from what it found before, without a query, when
    /// its <see cref="CreateTaskAsync"/> checks that the template has not changed since (the PostgreSQL store does, and
    /// then throws an internal exception the engine handles by looking again). By default <see cref="FindTemplateAsync"/>.
    /// </summary>
    ValueTask<TaskTemplate?> FindTemplateToCreateAsync(string ns, string name, string? version, CancellationToken cancellationToken) =>
        FindTemplateAsync(ns, name, version, cancellationToken);

    /// <summary>
    /// Inserts a new task, or, when a task with the same <see cref="TaskHeader.Identity"/> exists for the same
    /// namespace and name, leaves the store unchanged and returns that task's uuid with <c>created: false</c>.
    /// A created task's ready steps are announced to other processes' workers by the store itself (PostgreSQL: NOTIFY
    /// in the insert's own transaction); the engine wakes this process's workers.
    /// </summary>
    ValueTask<(Guid TaskUuid, bool Created)> CreateTaskAsync(WorkflowTask task, CancellationToken cancellationToken);

    /// <summary>Runs <paramref name="change"/> on the task under an exclusive lock and persists its effects.</summary>
    /// <exception cref="TaskerException">NotFound when the task does not exist.</exception>
    ValueTask<T> UpdateTaskAsync<T>(Guid taskUuid, Func<WorkflowTask, T> change, Action<WorkflowTask>? committed, CancellationToken cancellationToken);

    /// <summary>Runs <paramref name="read"/> on a consistent snapshot of the task.</summary>
    ValueTask<T> ReadTaskAsync<T>(Guid taskUuid, Func<WorkflowTask, T> read, CancellationToken cancellationToken);

    /// <summary>The task's audit trail, oldest first.</summary>
    ValueTask<IReadOnlyList<TransitionRecord>> GetTransitionsAsync(Guid taskUuid, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<TaskSummary>> ListTasksAsync(TaskQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Expired leases, due retries, ready steps unclaimed for longer than <see cref="StaleThresholds.UnclaimedAfter"/>
    /// and pending tasks nobody drove for longer than <see cref="StaleThresholds.PendingAfter"/>; at most
    /// <paramref name="limit"/> of each, oldest first.
    /// </summary>
    ValueTask<StaleWork> ListStaleWorkAsync(DateTimeOffset now, int limit, StaleThresholds thresholds, CancellationToken cancellationToken);

    /// <summary>
    /// Counts what <see cref="ListStaleWorkAsync"/> lists, for health checks: ready steps nobody holds (by handler), expired
    /// leases and due retries, all of them. By default from that listing, capped at 10,000 of each;
    /// a store that can count without listing should (PostgreSQL and memory do).
    /// </summary>
    ValueTask<WorkCounts> CountWorkAsync(DateTimeOffset now, CancellationToken cancellationToken) => CountFromListAsync(this, now, cancellationToken);

    private const int CountFromListLimit = 10_000;

    private static async ValueTask<WorkCounts> CountFromListAsync(IStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var thresholds = StaleThresholds.Default with { UnclaimedAfter = TimeSpan.Zero };
        var stale = await store.ListStaleWorkAsync(now, CountFromListLimit, thresholds, cancellationToken).ConfigureAwait(false);
        var byHandler = stale.UnclaimedSteps.GroupBy(s => s.Handler, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        return new WorkCounts(byHandler, stale.ExpiredLeases.Count, stale.RetryDue.Count);
    }

    /// <summary>
    /// Worker mode's claim across tasks: finds tasks with steps ready now whose handler is one of
    /// <see cref="WorkQuery.Handlers"/> (at most <see cref="WorkQuery.Limit"/>, highest priority first, then by
    /// <see cref="WorkflowTask.ClaimableAt"/>: oldest task first, a step due for retry or whose lease expired at that
    /// time), runs <paramref name="change"/> on them, persists what it changed in one commit and then calls
    /// <c>committed</c> for each changed task. If the change throws, nothing is persisted. The change may run more than
    /// once (a store retries after a transient error), each time on fresh copies.
    /// <para>
    /// The tasks are held exclusively while the change runs; those another caller holds are passed over, never waited
    /// for. A store may leave out a task on which a worker is running another step and name it in
    /// <see cref="WorkFound.BusyTasks"/> instead (PostgreSQL does: holding it would make that worker's report wait
    /// and then lose its compare-and-set); the engine claims those one by one.
    /// </para>
    /// </summary>
    ValueTask<WorkFound> ClaimReadyTasksAsync(WorkQuery query, DateTimeOffset now, Action<IReadOnlyList<WorkflowTask>> change,
        Action<WorkflowTask>? committed, CancellationToken cancellationToken);

    /// <summary>
    /// Tells the workers of other processes sharing this store that steps became ready (PostgreSQL: NOTIFY). The
    /// engine wakes this process's own workers itself.
    /// </summary>
    ValueTask AnnounceWorkAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// Calls <paramref name="wake"/> whenever another process announces work (PostgreSQL: LISTEN), from the thread that reads
    /// the notifications, with no synchronization context: a woken worker's claim runs on it until its first wait that
    /// does not complete at once (the claim's round trip). Idempotent.
    /// </summary>
    void ListenForWork(Action wake) { }

    /// <summary>Counts for health checks. Throws <see cref="TaskerErrorCode.Database"/> when the store is unreachable.</summary>
    ValueTask<StoreStats> GetStatsAsync(CancellationToken cancellationToken) =>
        throw new TaskerException(TaskerErrorCode.Internal, $"{GetType().Name} does not report statistics");
}
