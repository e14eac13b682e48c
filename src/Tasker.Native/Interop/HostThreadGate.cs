using System.Runtime.CompilerServices;

namespace Tasker.Native.Interop;

/// <summary>
/// Blocks a host thread until an engine call completes, without spinning. <c>Task.GetAwaiter().GetResult()</c> spins
/// and yields the core (<c>sched_yield</c>) before it sleeps: in a worker process, whose host threads (a Python
/// worker's eight step threads) wait on the engine all the time, that spinning took CPU from the handlers and from
/// the PostgreSQL server on the same cores. A call here sleeps at once and is woken by the thread that completes it.
/// One gate per host thread, reused: a thread waits for one call at a time. Host threads only (every caller is an
/// export): a thread-pool thread blocked here would not be replaced by the pool.
/// </summary>
internal sealed class HostThreadGate
{
    [ThreadStatic] private static HostThreadGate? t_gate;

    private readonly ManualResetEventSlim _completed = new(initialState: false, spinCount: 0);
    private readonly Action _set;

    private HostThreadGate() => _set = _completed.Set;

    /// <summary>Sleeps until <paramref name="awaiter"/>'s call completes (then call its <c>GetResult</c>).</summary>
    public static void Block<TAwaiter>(ref TAwaiter awaiter) where TAwaiter : ICriticalNotifyCompletion
    {
        var gate = t_gate ??= new HostThreadGate();
        gate._completed.Reset();
        awaiter.UnsafeOnCompleted(gate._set);
        gate._completed.Wait();
    }
}
