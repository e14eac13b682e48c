using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using Tasker.Postgres.Resilience;

namespace Tasker.Postgres.Work;

/// <summary>
/// Tells other processes' workers that steps became ready (NOTIFY), at most once per window (<see cref="ChangeWindow"/>): a burst of
/// ready steps wakes the workers once, not once per step. An announcement asked for inside the window is not dropped:
/// one is sent when the window ends, so the last change of a burst is always announced (a worker woken by the first
/// may have looked before the later changes committed). With a <c>carryOver</c>, that last one first waits as long for a
/// caller of <see cref="DueNow"/> to send it in its own statement (a create's insert), and goes alone only if none comes.
/// </summary>
internal sealed class Announcer(StoreExecutor executor, string channel, ILogger log, TimeSpan window, TimeSpan carryOver = default) : IDisposable
{
    /// <summary>
    /// The coalescing window of changes that made steps ready: short next to a worker's wake-up and find, long next to a
    /// burst. Such steps mostly go to busy workers, whose own claims find them.
    /// </summary>
    public static readonly TimeSpan ChangeWindow = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// The coalescing window of created tasks: an enqueue, which idle workers wait for, so it is announced at once unless
    /// this process announced one under 2 ms ago. With the change window, a steady 50–500 creates a second were each
    /// announced up to 20 ms late (a waiting worker's p50 was 13.8 ms against graphile-worker's 2.9 ms, a create every
    /// 5 ms). Still a window, not one NOTIFY per create: PostgreSQL serializes the commits of transactions that notify
    /// (queue order), which would cost a bulk of concurrent creates its group commit.
    /// </summary>
    public static readonly TimeSpan CreateWindow = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// How long the announcement owed at the end of a create window waits for the next create to carry it. Creates one
    /// after another (a loop enqueueing a batch, 1–2 ms apart) otherwise sent one NOTIFY of their own for nearly every
    /// create inside a window: 779 for 1,000 creates, each its own transaction with a durable commit (PostgreSQL gives
    /// a notifying transaction an id). A change left without one waits a window, this, and at worst the carrying
    /// create's statement (a retry, or a wait for another create of the same identity).
    /// </summary>
    public static readonly TimeSpan CreateCarryOver = TimeSpan.FromMilliseconds(2);

    private readonly CancellationTokenSource _stopping = new();
    // Stopwatch time, not Environment.TickCount64: that reads the kernel's coarse clock, which moves in steps of 4 ms
    // (250 Hz kernels) to 10 ms, as long as or longer than the create window itself.
    private readonly long _window = (long)(window.TotalSeconds * Stopwatch.Frequency);
    private long _last = Stopwatch.GetTimestamp() - (long)(window.TotalSeconds * Stopwatch.Frequency);
    private int _trailing;
    private int _owed; // 1: the announcement at a window's end waits for a caller of DueNow to carry it (carryOver)

    /// <summary>
    /// Whether an announcement is due now (the caller sends it, e.g. inside its own statement). With
    /// <paramref name="mayCarry"/> it may carry one owed for earlier changes, so a caller told true that then sends
    /// nothing (its change did not happen) must call <see cref="Deferred"/>; a caller whose statement may commit late
    /// (inside a host's transaction) passes false. When it is not due, the caller must call <see cref="Deferred"/> once
    /// its change has committed.
    /// </summary>
    public bool DueNow(bool mayCarry = true)
    {
        var now = Stopwatch.GetTimestamp();
        // Sent after the owed changes committed (they were committed before Deferred), so it covers them.
        if (mayCarry && Volatile.Read(ref _owed) == 1 && Interlocked.CompareExchange(ref _owed, 0, 1) == 1)
        {
            Interlocked.Exchange(ref _last, now);
            return true;
        }
        var last = Interlocked.Read(ref _last);
        return now - last >= _window && Interlocked.CompareExchange(ref _last, now, last) == last;
    }

    /// <summary>A committed change was not announced (inside the window): make sure one announcement follows.</summary>
    public void Deferred()
    {
        if (Interlocked.Exchange(ref _trailing, 1) == 1) return; // one is already on its way and will cover this one
        _ = Task.Run(SendTrailingAsync);
    }

    /// <summary>After a committed change: announce now, or at the end of the window.</summary>
    public async ValueTask AnnounceAsync(CancellationToken cancellationToken)
    {
        if (DueNow())
            await SendAsync(cancellationToken).ConfigureAwait(false);
        else
            Deferred();
    }

    private async Task SendTrailingAsync()
    {
        try
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), Interlocked.Read(ref _last) + _window);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, _stopping.Token).ConfigureAwait(false);
            // Cleared before sending: a change committed from here on asks for a new one rather than count on this one.
            Volatile.Write(ref _trailing, 0);
            if (carryOver > TimeSpan.Zero)
            {
                Volatile.Write(ref _owed, 1);
                await Task.Delay(carryOver, _stopping.Token).ConfigureAwait(false);
                if (Interlocked.CompareExchange(ref _owed, 0, 1) != 1) return; // carried by a caller of DueNow
            }
            Interlocked.Exchange(ref _last, Stopwatch.GetTimestamp());
            await SendAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && _stopping.IsCancellationRequested)
        {
            // the store is closing
        }
        catch (Exception e)
        {
            // Never left set: a stuck flag would silence every later deferred announcement. Workers still poll.
            Volatile.Write(ref _trailing, 0);
            Diagnostics.StoreLog.AnnounceFailed(log, e is Core.TaskerException t ? t.Code.ToString() : e.GetType().Name);
        }
    }

    /// <summary>Sends one NOTIFY now.</summary>
    public ValueTask<int> SendAsync(CancellationToken cancellationToken) =>
        executor.RunAsync("announce_work", channel, static async (connection, channel, token) =>
        {
            await using var command = new NpgsqlCommand(WorkSql.Announce, connection);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channel });
            await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
            return 0;
        }, cancellationToken);

    /// <summary>Test seam: an announcement waits for a caller of <see cref="DueNow"/> to carry it.</summary>
    internal bool Owed => Volatile.Read(ref _owed) == 1;

    /// <summary>Drops a trailing announcement still waiting: the store is closing.</summary>
    public void Dispose() => _stopping.Cancel();
}
