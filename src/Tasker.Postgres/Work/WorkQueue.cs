using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Tasker.Core;
using Tasker.Postgres.Resilience;
using Tasker.Postgres.Tasks;

namespace Tasker.Postgres.Work;

/// <summary>
/// Worker mode on PostgreSQL: finds tasks with ready steps of a worker's handlers, announces new work with NOTIFY and
/// listens for other processes' announcements on one dedicated connection (opened on the first wait, re-opened
/// after a failure). A lost notification only delays a worker until its next poll.
/// </summary>
internal sealed class WorkQueue(StoreExecutor executor, NpgsqlDataSource dataSource, TaskShapeCache shapes, TaskCache cache, StoreCounters counters,
    string channel, ILogger log) : IAsyncDisposable
{
    private static readonly TimeSpan ListenRetryDelay = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stop = new();
    private Task? _listener;
    private Action? _wake;

    /// <summary>
    /// Candidates found beyond the caller's limit: when another process claims the first ones between our find and
    /// our claim, the engine goes on to these instead of waiting for the next announcement.
    /// </summary>
    private const int SpareTasks = 4;

    private readonly HandedOut _handedOut = new();
    private readonly TaskShapeCache _shapes = shapes;
    private readonly TaskCache _cache = cache;
    private readonly StoreCounters _counters = counters;

    public async ValueTask<IReadOnlyList<ReadyTask>> FindReadyTasksAsync(WorkQuery query, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var found = await executor.RunAsync("find_ready_tasks", (query, now, exclude: _handedOut.Current(), spread: Contended(), self: this), static async (connection, s, token) =>
        {
            var rows = new List<(TaskRow Row, int Priority)>();
            await using (var command = new NpgsqlCommand(WorkSql.FindReadyTasks, connection))
            {
                command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = s.query.Handlers.ToArray() });
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
                    Value = s.query.Namespaces is { } ns ? ns.ToArray() : DBNull.Value });
                command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = s.now.UtcDateTime });
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = s.query.Limit + SpareTasks });
                command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = s.exclude });
                s.self._counters.RoundTrip(1);
                await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
                while (await reader.ReadAsync(token).ConfigureAwait(false))
                    rows.Add((TaskRow.Read(reader, reader.GetGuid(WorkSql.FoundTaskUuid)), reader.GetInt32(WorkSql.FoundPriority)));
            }
            if (s.spread) Spread(rows);
            var found = new List<ReadyTask>(rows.Count);
            foreach (var (row, priority) in rows)
            {
                // The claim that follows starts from this snapshot (its compare-and-set proves it still current) unless
                // this process holds a copy of its own already.
                var shape = await s.self._shapes.GetAsync(connection, row.DefinitionKey, row.TaskUuid, token).ConfigureAwait(false);
                s.self._cache.Offer(new CachedTask(row.Build(shape), row.RowVersion, row.TransitionCount));
                found.Add(new ReadyTask(row.TaskUuid, priority));
            }
            return (IReadOnlyList<ReadyTask>)found;
        }, cancellationToken).ConfigureAwait(false);
        // Only the ones the caller asked for: spares it does not reach stay in sight of the next caller.
        _handedOut.Add(found.Take(query.Limit).Select(t => t.Uuid));
        return found;
    }

    /// <summary>How long one lost compare-and-set makes finds spread their candidates.</summary>
    private const long ContentionWindowMs = 1000;

    private long _seenConflicts;
    private long _contendedUntil;

    /// <summary>
    /// Whether this process lost a compare-and-set in the last second: other processes are claiming the same tasks,
    /// which all walk the queue in the same order and so all reach for its head together. Each loss costs the loser a
    /// wasted write and a reload.
    /// </summary>
    private bool Contended()
    {
        var now = Environment.TickCount64;
        var conflicts = _counters.Conflicts;
        if (conflicts != Interlocked.Exchange(ref _seenConflicts, conflicts))
            Volatile.Write(ref _contendedUntil, now + ContentionWindowMs);
        return now < Volatile.Read(ref _contendedUntil);
    }

    /// <summary>
    /// Under contention: start at a random one of the leading candidates that share the top priority (the rest keep
    /// their order). Processes then mostly reach for different tasks; the order among tasks of equal priority is
    /// relaxed by at most the few candidates one find returns. Never used while uncontended, so a single process
    /// claims strictly oldest first.
    /// </summary>
    private static void Spread(List<(TaskRow Row, int Priority)> rows)
    {
        var tied = 1;
        while (tied < rows.Count && rows[tied].Priority == rows[0].Priority) tied++;
        if (tied < 2) return;
        var start = Random.Shared.Next(tied);
        var rotated = rows.GetRange(start, tied - start).Concat(rows.GetRange(0, start)).ToList();
        for (var i = 0; i < tied; i++) rows[i] = rotated[i];
    }

    /// <summary>A change of <paramref name="task"/> committed in this process (see <see cref="HandedOut"/>).</summary>
    public void Written(Guid task) => _handedOut.Release(task);

    /// <summary>NOTIFY, coalesced (see <see cref="Work.Announcer"/>).</summary>
    public Announcer Announcer { get; } = new(executor, channel, log, Announcer.DefaultWindow);

    /// <summary>This store's NOTIFY channel (<see cref="WorkChannel"/>).</summary>
    public string Channel => channel;

    public ValueTask AnnounceAsync(CancellationToken cancellationToken) => Announcer.AnnounceAsync(cancellationToken);

    /// <summary>Starts the listener once; <paramref name="wake"/> runs on every notification.</summary>
    public void Listen(Action wake)
    {
        if (Interlocked.CompareExchange(ref _wake, wake, null) is not null) return;
        _listener = Task.Run(ListenLoopAsync);
    }

    private async Task ListenLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(_stop.Token).ConfigureAwait(false);
                connection.Notification += (_, _) => _wake?.Invoke();
                await using (var listen = new NpgsqlCommand(WorkChannel.Listen(channel), connection))
                    await listen.ExecuteNonQueryAsync(_stop.Token).ConfigureAwait(false);
                _wake?.Invoke(); // work may have appeared while no one listened
                while (!_stop.IsCancellationRequested)
                    await connection.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or IOException)
            {
                // Workers still poll meanwhile; try again shortly.
                Diagnostics.StoreLog.ListenerLost(log, e.GetType().Name);
                try { await Task.Delay(ListenRetryDelay, _stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Announcer.Dispose();
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_listener is not null)
        {
            try { await _listener.ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        _stop.Dispose();
    }
}
