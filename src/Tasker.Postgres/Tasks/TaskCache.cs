using System.Collections.Concurrent;
using Tasker.Core;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// A task as this process last committed it, with the row version and the write stamp (<c>last_write_uuid</c>, null
/// until the first write after the create) that commit produced.
/// </summary>
internal sealed record CachedTask(WorkflowTask Task, long RowVersion, int TransitionCount, Guid? WriteUuid);

/// <summary>
/// The aggregates this process wrote last, so the next change to the same task (typically: claim, then complete,
/// then claim the next steps) can skip the load and go straight to the compare-and-set write — one statement per
/// change instead of two. Correctness never depends on the cache: a write based on a stale entry fails its
/// row_version and write stamp check and the change is re-run on freshly loaded state (the stamp, for a copy of a
/// commit the database lost in a crash whose row version a later write reached again: an unflushed claim's); an entry is taken out while in use, so two
/// threads never share an aggregate; and only outcomes proven current (by a successful write) are ever returned
/// from a cached aggregate (see <see cref="TaskUpdater"/>).
/// </summary>
internal sealed class TaskCache(int capacity)
{
    private readonly ConcurrentDictionary<Guid, CachedTask> _tasks = new();

    /// <summary>
    /// About how many entries there are, for the bound: <see cref="ConcurrentDictionary{TKey,TValue}.Count"/> takes
    /// every lock of the dictionary, and asking it on every write made the worker threads queue on those locks. A
    /// race may leave this a little off (an entry replaced while it was taken out counts once more or less); the bound
    /// is a memory guard, not a contract, and <see cref="Put"/>'s clear sets it right again.
    /// </summary>
    private int _approximateCount;

    /// <summary>The exact count (takes every lock: for statistics, not the hot path).</summary>
    public int Count => _tasks.Count;

    /// <summary>Takes the entry out (exclusive use); the caller puts back a newer one after its own write.</summary>
    public bool TryTake(Guid taskUuid, out CachedTask entry)
    {
        if (!_tasks.TryRemove(taskUuid, out entry!)) return false;
        Interlocked.Decrement(ref _approximateCount);
        return true;
    }

    /// <summary>
    /// A copy read elsewhere (a worker's find): kept unless this process holds one at least as new (row versions
    /// only grow). A copy taken for use is absent meanwhile; its writer's <see cref="Put"/> replaces this one after.
    /// </summary>
    public void Offer(CachedTask entry)
    {
        if (capacity == 0 || entry.Task.State.IsFinished() || Volatile.Read(ref _approximateCount) >= capacity) return;
        var key = entry.Task.Uuid;
        while (true)
        {
            if (_tasks.TryGetValue(key, out var held))
            {
                if (entry.RowVersion <= held.RowVersion || _tasks.TryUpdate(key, entry, held)) return;
            }
            else if (_tasks.TryAdd(key, entry))
            {
                Interlocked.Increment(ref _approximateCount);
                return;
            }
        }
    }

    public void Put(CachedTask entry)
    {
        if (capacity == 0) return;
        var key = entry.Task.Uuid;
        // Finished tasks rarely change again; don't hold their memory.
        if (entry.Task.State.IsFinished())
        {
            TryTake(key, out _);
            return;
        }
        if (Volatile.Read(ref _approximateCount) >= capacity)
        {
            _tasks.Clear(); // crude but bounded; entries are an optimization, a miss costs one load
            Volatile.Write(ref _approximateCount, 0);
        }
        if (_tasks.TryAdd(key, entry))
            Interlocked.Increment(ref _approximateCount);
        else
            _tasks[key] = entry;
    }
}
