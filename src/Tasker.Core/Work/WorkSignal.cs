namespace Tasker.Core;

/// <summary>
/// Wakes the workers of this process waiting for ready steps. Waiters take <see cref="Next"/> before they look for
/// work, so a signal raised between looking and waiting is never lost.
/// </summary>
public sealed class WorkSignal
{
    private TaskCompletionSource _next = NewSource();
    private int _watched; // 1 once someone took Next: raising costs nothing while no worker waits

    /// <summary>Completes at the next <see cref="Raise"/>.</summary>
    public Task Next
    {
        get
        {
            Volatile.Write(ref _watched, 1);
            return Volatile.Read(ref _next).Task;
        }
    }

    /// <summary>Wakes everyone waiting on the current <see cref="Next"/>.</summary>
    public void Raise()
    {
        if (Interlocked.Exchange(ref _watched, 0) == 1)
            Interlocked.Exchange(ref _next, NewSource()).TrySetResult();
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
