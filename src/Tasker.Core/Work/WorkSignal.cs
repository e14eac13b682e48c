namespace Tasker.Core;

/// <summary>
/// Wakes the workers of this process waiting for ready steps. Waiters take <see cref="Next"/> before they look for
/// work, so a signal raised between looking and waiting is never lost.
/// </summary>
public sealed class WorkSignal
{
    private TaskCompletionSource _next = NewSource();

    /// <summary>Completes at the next <see cref="Raise"/>.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>Wakes everyone waiting on the current <see cref="Next"/>.</summary>
    public void Raise() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
