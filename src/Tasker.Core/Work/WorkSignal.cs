namespace Tasker.Core;

/// <summary>
/// Wakes the workers of this process waiting for ready steps. Waiters take <see cref="Next"/> before they look for
/// work, so a signal raised between looking and waiting is never lost.
/// </summary>
public sealed class WorkSignal
{
    private TaskCompletionSource _next = NewSource();

    /// <summary>1 once <see cref="Next"/> was taken since the last raise that completed it: only then is anyone waiting.</summary>
    private int _taken;

    /// <summary>Completes at the next <see cref="Raise"/>.</summary>
    public Task Next
    {
        get
        {
            var next = Volatile.Read(ref _next);
            Interlocked.Exchange(ref _taken, 1); // after the read: a raise that saw 0 came before it (see Raise)
            return next.Task;
        }
    }

    /// <summary>Wakes everyone waiting on the current <see cref="Next"/>.</summary>
    /// <remarks>
    /// Every step that makes work ready raises (with <c>handle</c>, nobody waits): when nobody took <see cref="Next"/>
    /// since the last raise, a raise changes nothing and allocates nothing. That is safe because a waiter takes
    /// <see cref="Next"/> before it looks for work: a raise that found <c>_taken</c> 0 came before the waiter took it,
    /// so the waiter's look comes after the work this raise announces was made ready.
    /// </remarks>
    public void Raise()
    {
        if (Interlocked.Exchange(ref _taken, 0) == 0) return;
        Interlocked.Exchange(ref _next, NewSource()).TrySetResult();
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
