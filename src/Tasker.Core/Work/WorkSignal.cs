namespace Tasker.Core;

/// <summary>
/// Wakes the workers of this process waiting for ready steps. Waiters take <see cref="Next"/> before they look for
/// work, so a signal raised between looking and waiting is never lost.
/// </summary>
public sealed class WorkSignal
{
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

    /// <summary>Wakes everyone waiting on the current <see cref="Next"/>; they go on on the thread pool.</summary>
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
    /// Wakes everyone waiting on the current <see cref="Next"/> on this thread: each goes on until it next waits (a
    /// waiting worker: until its claim is sent) before this returns. For a thread with nothing else to do, the store's
    /// listener: a notification's claim then goes out without a hop to another thread, which an idle worker's
    /// enqueue-to-start latency pays (<see cref="Raise"/> keeps a caller's own work from being held up instead).
    /// </summary>
    public void RaiseHere() => Take()?.TrySetResult();

    /// <summary>The current <see cref="Next"/>'s source, replaced, when anyone took it since the last raise.</summary>
    private TaskCompletionSource? Take() =>
        Interlocked.Exchange(ref _taken, 0) == 0 ? null : Interlocked.Exchange(ref _next, new TaskCompletionSource());
}
