using Npgsql;
using Polly;
using Tasker.Postgres.Connection;

namespace Tasker.Postgres.Resilience;

/// <summary>
/// Runs one store operation through the resilience pipeline and translates what escapes it into
/// <see cref="Tasker.Core.TaskerException"/>. The operation must be safe to run again from the start: each attempt
/// takes its own connection (<see cref="IdleConnections"/>, when it first needs one: <see cref="ConnectionLease"/>)
/// and re-reads what it needs.
/// </summary>
internal sealed class StoreExecutor(IdleConnections connections, ResiliencePipeline pipeline, string? password)
{
    private readonly IdleConnections _connections = connections;
    private int _inUse;

    public NpgsqlDataSource DataSource => _connections.DataSource;

    /// <summary>Connections this store holds right now (the pool's busy count, as far as this store is concerned).</summary>
    public int ConnectionsInUse => Volatile.Read(ref _inUse);

    /// <summary>Runs <paramref name="body"/> on a connection taken for each attempt.</summary>
    public ValueTask<T> RunAsync<T, TState>(string operation, TState state,
        Func<NpgsqlConnection, TState, CancellationToken, ValueTask<T>> body, CancellationToken cancellationToken) =>
        RunLeasedAsync(operation, (state, body), static async (lease, s, token) =>
            await s.body(await lease.GetAsync(token).ConfigureAwait(false), s.state, token).ConfigureAwait(false), cancellationToken);

    /// <summary>
    /// Runs <paramref name="body"/> with a <see cref="ConnectionLease"/> for each attempt: the connection is taken when
    /// the body first asks for it, and not at all if it never does.
    /// </summary>
    public async ValueTask<T> RunLeasedAsync<T, TState>(string operation, TState state,
        Func<ConnectionLease, TState, CancellationToken, ValueTask<T>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await pipeline.ExecuteAsync(static async (args, token) =>
            {
                var self = args.self;
                var lease = new ConnectionLease(self);
                var completed = false;
                try
                {
                    var result = await args.body(lease, args.state, token).ConfigureAwait(false);
                    completed = true;
                    return result;
                }
                finally
                {
                    if (lease.Taken is { } connection)
                        await self.GiveBackAsync(connection, completed).ConfigureAwait(false);
                }
            }, (self: this, state, body), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (DatabaseErrors.Map(e, operation, password) is { } mapped)
                throw mapped;
            throw;
        }
    }

    /// <summary>Hands back a connection <see cref="TakeConnectionAsync"/> gave (<paramref name="reusable"/>: see <see cref="IdleConnections.ReturnAsync"/>).</summary>
    internal ValueTask GiveBackAsync(NpgsqlConnection connection, bool reusable = true)
    {
        Interlocked.Decrement(ref _inUse);
        return _connections.ReturnAsync(connection, reusable);
    }

    /// <summary>A connection for a <see cref="ConnectionLease"/>, counted in use until the attempt hands it back.</summary>
    internal async ValueTask<NpgsqlConnection> TakeConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = await _connections.RentAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _inUse);
        return connection;
    }
}
