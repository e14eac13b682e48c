namespace Tasker.Core;

/// <summary>
/// Wakes the workers of this process waiting for ready steps. Waiters take <see cref="Next"/> before they look for
/// work, so a signal raised between looking and waiting is never lost.
/// </summary>
internal sealed class WorkSignal
{
    /// <summary>True on a thread while <see cref="RaiseHere"/> runs the waiters on it.</summary>
    [ThreadStatic] private static bool t_raisingHere;

    /// <summary>
    /// Whether this thread is running woken waiters for <see cref="RaiseHere"/>: a waiter that finishes without waiting
    /// again (an error, a cancellation) yields before it returns, so that its caller's code never runs on the raiser's
    /// thread.
    /// </summary>
    public static bool RaisingHere => t_raisingHere;

    private TaskCompletionSource _next = new();

    /// <summary>1 once <see cref="Next"/> was taken since the last raise that completed it: only then is anyone waiting.</summary>
    private int _taken;

    /// <summary>Completes at the next <see cref="Raise"/> or <see cref="RaiseHere"/>.</summary>
    public Task Next
    {
        get
        {
            var next = Volatile.Read(ref _next);
            Interlocked.Exchange(ref _taken, 1); // after the read: a raise that saw 0 came before it (see Raise)
            return next.Task;
        }
    }

    /// <summary>Wakes everyone waiting on the current <see cref="Next"/>: they go on on a thread-pool thread, one after the other until each waits again.</summary>
    /// <remarks>
    /// Every step that makes work ready raises (with <c>handle</c>, nobody waits): when nobody took <see cref="Next"/>
    /// since the last raise, a raise changes nothing and allocates nothing. That is safe because a waiter takes
    /// <see cref="Next"/> before it looks for work: a raise that found <c>_taken</c> 0 came before the waiter took it,
    /// so the waiter's look comes after the work this raise announces was made ready.
    /// </remarks>
    public void Raise()
    {
        if (Take() is { } next)
            ThreadPool.UnsafeQueueUserWorkItem(static next => next.TrySetResult(), next, preferLocal: false);
    }

    /// <summary>
    /// Wakes everyone waiting on the current <see cref="Next"/> on this thread: each goes on until its first wait that
    /// does not complete at once (a waiting worker: until its claim is sent) before this returns, one after the other.
    /// For the store's listener, whose thread only reads notifications: a notification's claim then goes out without a
    /// hop to another thread, which an idle worker's enqueue-to-start latency pays (<see cref="Raise"/> keeps a caller's
    /// own work from being held up instead). Runs them here only on a thread with no synchronization context (.NET
    /// queues them otherwise).
    /// </summary>
    public void RaiseHere()
    {
        if (Take() is not { } next) return;
        t_raisingHere = true;
        try
        {
            next.TrySetResult();
        }
        finally
        {
            t_raisingHere = false;
        }
    }

    /// <summary>The current <see cref="Next"/>'s source, replaced, when anyone took it since the last raise.</summary>
    private TaskCompletionSource? Take() =>
        Interlocked.Exchange(ref _taken, 0) == 0 ? null : Interlocked.Exchange(ref _next, new TaskCompletionSource());
}
