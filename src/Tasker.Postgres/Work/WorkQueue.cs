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
    ILogger log) : IAsyncDisposable
{
    /// <summary>Announcements closer together than this are one: a burst of ready steps wakes workers once.</summary>
    private static readonly TimeSpan AnnounceCoalescing = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan ListenRetryDelay = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stop = new();
    private long _lastAnnounce;
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

    public async ValueTask<IReadOnlyList<Guid>> FindReadyTasksAsync(WorkQuery query, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var found = await executor.RunAsync("find_ready_tasks", (query, now, exclude: _handedOut.Current(), self: this), static async (connection, s, token) =>
        {
            var rows = new List<TaskRow>();
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
                    rows.Add(TaskRow.Read(reader, reader.GetGuid(WorkSql.FoundTaskUuid)));
            }
            var found = new List<Guid>(rows.Count);
            foreach (var row in rows)
            {
                // The claim that follows starts from this snapshot (its compare-and-set proves it still current) unless
                // this process holds a copy of its own already.
                var shape = await s.self._shapes.GetAsync(connection, row.DefinitionKey, row.TaskUuid, token).ConfigureAwait(false);
                s.self._cache.Offer(new CachedTask(row.Build(shape), row.RowVersion, row.TransitionCount));
                found.Add(row.TaskUuid);
            }
            return (IReadOnlyList<Guid>)found;
        }, cancellationToken).ConfigureAwait(false);
        // Only the ones the caller asked for: spares it does not reach stay in sight of the next caller.
        _handedOut.Add(found.Take(query.Limit));
        return found;
    }

    /// <summary>A change of <paramref name="task"/> committed in this process (see <see cref="HandedOut"/>).</summary>
    public void Written(Guid task) => _handedOut.Release(task);

    public async ValueTask AnnounceAsync(CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastAnnounce);
        if (now - last < AnnounceCoalescing.TotalMilliseconds || Interlocked.CompareExchange(ref _lastAnnounce, now, last) != last)
            return;
        await executor.RunAsync("announce_work", 0, static async (connection, _, token) =>
        {
            await using var command = new NpgsqlCommand(WorkSql.Announce, connection);
            await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
            return 0;
        }, cancellationToken).ConfigureAwait(false);
    }

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
                await using (var listen = new NpgsqlCommand(WorkSql.Listen, connection))
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
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_listener is not null)
        {
            try { await _listener.ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        _stop.Dispose();
    }
}
