using Xunit;

namespace Tasker.Core.Tests.Work;

public sealed class WorkSignalTests
{
    [Fact]
    public async Task A_raise_completes_what_a_waiter_took_before_it()
    {
        var signal = new WorkSignal();
        var next = signal.Next;
        Assert.False(next.IsCompleted);
        signal.Raise();
        await next.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(signal.Next.IsCompleted); // the next wait waits for the next raise
    }

    [Fact]
    public async Task A_raise_goes_on_with_the_waiter_on_another_thread()
    {
        var signal = new WorkSignal();
        var woken = Woken(signal.Next);
        // On a thread-pool thread, as a completion that made steps ready raises (no synchronization context, so .NET would
        // run the waiter inline if the raise let it); the raiser then blocks, so the waiter goes on elsewhere or not at all.
        var (raiser, waiter) = await Task.Run(() =>
        {
            signal.Raise();
            var finished = woken.Wait(TimeSpan.FromSeconds(10));
            return (Environment.CurrentManagedThreadId, finished ? woken.Result : -1);
        });
        Assert.NotEqual(-1, waiter);
        Assert.NotEqual(raiser, waiter);
    }

    [Fact]
    public async Task A_raise_here_runs_the_waiter_until_it_next_waits_before_it_returns()
    {
        var signal = new WorkSignal();
        var woken = Woken(signal.Next);
        // On a thread-pool thread, as the store's listener raises: under a synchronization context (the test runner's)
        // .NET queues the waiter instead of running it inline.
        var (raiser, completedOnReturn) = await Task.Run(() =>
        {
            signal.RaiseHere();
            return (Environment.CurrentManagedThreadId, woken.IsCompleted);
        });
        Assert.True(completedOnReturn);
        Assert.Equal(raiser, await woken);
    }

    /// <summary>A waiter: the thread it goes on on once <paramref name="next"/> completes.</summary>
    private static async Task<int> Woken(Task next)
    {
        await next.ConfigureAwait(false);
        return Environment.CurrentManagedThreadId;
    }

    [Fact]
    public void A_raise_nobody_waits_for_allocates_nothing()
    {
        var signal = new WorkSignal();
        signal.Raise(); // warm
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++) signal.Raise();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task Every_waiter_that_took_next_before_a_raise_is_woken_by_it()
    {
        var signal = new WorkSignal();
        var first = signal.Next;
        var second = signal.Next;
        signal.Raise();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_waiter_never_misses_work_made_ready_while_it_looked()
    {
        // The waiter's protocol: take Next, look for work, wait. The raiser's: make work ready, raise. Whatever the
        // interleaving, the waiter either sees the work when it looks or is woken.
        var signal = new WorkSignal();
        for (var round = 0; round < 2_000; round++)
        {
            var ready = 0;
            var waiter = Task.Run(async () =>
            {
                var woken = signal.Next;
                if (Volatile.Read(ref ready) == 1) return;
                await woken.WaitAsync(TimeSpan.FromSeconds(10));
            });
            var raiser = Task.Run(() =>
            {
                Volatile.Write(ref ready, 1);
                signal.Raise();
            });
            await Task.WhenAll(waiter, raiser); // a missed wake-up is a TimeoutException here
        }
    }
}
