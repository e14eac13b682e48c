using System.Collections.Concurrent;

namespace Tasker.Postgres.Work;

/// <summary>
/// Tasks this process's workers were just pointed at and have not written yet. Concurrent claims in one process
/// would otherwise all find the same oldest task: one claims it, the rest lose the compare-and-set, reload it, find
/// nothing left and go back to waiting while other tasks sit ready. A task leaves the set when a change of it
/// commits here (its claim) or after <see cref="Hold"/> (a caller that found it and then did not claim it).
/// Only a hint, like every find: the claim itself re-checks everything under the task's compare-and-set.
/// </summary>
internal sealed class HandedOut
{
    /// <summary>Long enough for a find → claim round trip under load, short enough that an abandoned hint costs little.</summary>
    private static readonly long Hold = (long)TimeSpan.FromMilliseconds(500).TotalMilliseconds;

    private readonly ConcurrentDictionary<Guid, long> _tasks = new();

    /// <summary>The tasks to leave out of the next find (expired ones are dropped on the way).</summary>
    public Guid[] Current()
    {
        if (_tasks.IsEmpty) return [];
        var now = Environment.TickCount64;
        var current = new List<Guid>(_tasks.Count);
        foreach (var (task, since) in _tasks)
        {
            if (now - since < Hold) current.Add(task);
            else _tasks.TryRemove(new KeyValuePair<Guid, long>(task, since));
        }
        return [.. current];
    }

    public void Add(IEnumerable<Guid> tasks)
    {
        var now = Environment.TickCount64;
        foreach (var task in tasks) _tasks[task] = now;
    }

    /// <summary>A change of <paramref name="task"/> committed in this process: it is no longer a fresh hint.</summary>
    public void Release(Guid task)
    {
        if (!_tasks.IsEmpty) _tasks.TryRemove(task, out _);
    }
}
