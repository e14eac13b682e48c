using Tasker.Core;

namespace Tasker.Postgres.Work;

/// <summary>
/// A set of handler names in 64 bits, one per name (its FNV-1a hash modulo 64): the handlers of a task's claimable
/// steps (<see cref="Of(WorkflowTask)"/>, the task row's <c>work_mask</c>, migration 13) against the handlers of a work
/// claim (<see cref="Of(IEnumerable{string})"/>). Two names can share a bit, so masks in common only say "maybe" (the
/// find still checks the task's steps); no bit in common is certain, and the find passes the task without reading
/// its steps. Every process computes it the same way: the hash is fixed here, not the runtime's string hash.
/// </summary>
internal static class HandlerMask
{
    /// <summary>
    /// The handlers of the steps a work claim could take now or later without another step finishing first: those
    /// <see cref="WorkflowTask.ClaimableAt"/> counts (ready, waiting for a retry, running under a lease that may
    /// expire). 0 for a task with none.
    /// </summary>
    public static long Of(WorkflowTask task)
    {
        var mask = 0L;
        foreach (var i in task.Candidates) mask |= Bit(task.Steps[i].Handler);
        foreach (var i in task.InFlight) mask |= Bit(task.Steps[i].Handler);
        return mask;
    }

    public static long Of(IEnumerable<string> handlers)
    {
        var mask = 0L;
        foreach (var handler in handlers) mask |= Bit(handler);
        return mask;
    }

    private static long Bit(string handler)
    {
        var hash = 14695981039346656037UL; // FNV-1a, 64-bit, over the UTF-16 code units
        foreach (var c in handler)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        return 1L << (int)(hash & 63);
    }
}
