using Npgsql;
using Polly;
using Tasker.Postgres.Connection;

namespace Tasker.Postgres.Resilience;

/// <summary>
/// Runs one store operation through the resilience pipeline and translates what escapes it into
/// <see cref="Tasker.Core.TaskerException"/>. The operation must be safe to run again from the start: each attempt
/// takes its own connection (<see cref="IdleConnections"/>) and re-reads what it needs.
/// </summary>
internal sealed class StoreExecutor(IdleConnections connections, ResiliencePipeline pipeline, string? password)
{
    private readonly IdleConnections _connections = connections;
    private int _inUse;

    public NpgsqlDataSource DataSource => _connections.DataSource;

    /// <summary>Connections this store holds right now (the pool's busy count, as far as this store is concerned).</summary>
    public int ConnectionsInUse => Volatile.Read(ref _inUse);

    public async ValueTask<T> RunAsync<T, TState>(string operation, TState state,
        Func<NpgsqlConnection, TState, CancellationToken, ValueTask<T>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await pipeline.ExecuteAsync(static async (args, token) =>
            {
                var connection = await args.self._connections.RentAsync(token).ConfigureAwait(false);
                Interlocked.Increment(ref args.self._inUse);
                var completed = false;
                try
                {
                    var result = await args.body(connection, args.state, token).ConfigureAwait(false);
                    completed = true;
                    return result;
                }
                finally
                {
                    Interlocked.Decrement(ref args.self._inUse);
                    await args.self._connections.ReturnAsync(connection, completed).ConfigureAwait(false);
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
}
