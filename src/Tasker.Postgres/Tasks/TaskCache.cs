using System.Collections.Concurrent;
using Tasker.Core;

namespace Tasker.Postgres.Tasks;

/// <summary>A task as this process last committed it, with the row version that commit produced.</summary>
internal sealed record CachedTask(WorkflowTask Task, long RowVersion, int TransitionCount);

/// <summary>
/// The aggregates this process wrote last, so the next change to the same task (typically: claim, then complete,
/// then claim the next steps) can skip the load and go straight to the compare-and-set write — one statement per
/// change instead of two. Correctness never depends on the cache: a write based on a stale entry fails its
/// row_version check and the change is re-run on freshly loaded state; an entry is taken out while in use, so two
/// threads never share an aggregate; and only outcomes proven current (by a successful write) are ever returned
/// from a cached aggregate (see <see cref="TaskUpdater"/>).
/// </summary>
internal sealed class TaskCache(int capacity)
{
    private readonly ConcurrentDictionary<Guid, CachedTask> _tasks = new();

    public int Count => _tasks.Count;

    /// <summary>Takes the entry out (exclusive use); the caller puts back a newer one after its own write.</summary>
    public bool TryTake(Guid taskUuid, out CachedTask entry) => _tasks.TryRemove(taskUuid, out entry!);

    /// <summary>
    /// A copy read elsewhere (a worker's find): kept unless this process holds one at least as new (row versions
    /// only grow). A copy taken for use is absent meanwhile; its writer's <see cref="Put"/> replaces this one after.
    /// </summary>
    public void Offer(CachedTask entry)
    {
        if (capacity == 0 || entry.Task.State.IsFinished() || _tasks.Count >= capacity) return;
        _tasks.AddOrUpdate(entry.Task.Uuid, entry, (_, held) => entry.RowVersion > held.RowVersion ? entry : held);
    }

    public void Put(CachedTask entry)
    {
        if (capacity == 0) return;
        // Finished tasks rarely change again; don't hold their memory.
        if (entry.Task.State.IsFinished())
        {
            _tasks.TryRemove(entry.Task.Uuid, out _);
            return;
        }
        if (_tasks.Count >= capacity)
            _tasks.Clear(); // crude but bounded; entries are an optimization, a miss costs one load
        _tasks[entry.Task.Uuid] = entry;
    }
}
