using Npgsql;
using Polly;

namespace Tasker.Postgres.Resilience;

/// <summary>
/// Runs one store operation through the resilience pipeline and translates what escapes it into
/// <see cref="Tasker.Core.TaskerException"/>. The operation must be safe to run again from the start: each attempt
/// opens its own connection and re-reads what it needs.
/// </summary>
internal sealed class StoreExecutor(NpgsqlDataSource dataSource, ResiliencePipeline pipeline, string? password)
{
    private int _inUse;

    public NpgsqlDataSource DataSource => dataSource;

    /// <summary>Connections this store holds right now (the pool's busy count, as far as this store is concerned).</summary>
    public int ConnectionsInUse => Volatile.Read(ref _inUse);

    public async ValueTask<T> RunAsync<T, TState>(string operation, TState state,
        Func<NpgsqlConnection, TState, CancellationToken, ValueTask<T>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await pipeline.ExecuteAsync(static async (args, token) =>
            {
                await using var connection = await args.self.DataSource.OpenConnectionAsync(token).ConfigureAwait(false);
                Interlocked.Increment(ref args.self._inUse);
                try
                {
                    return await args.body(connection, args.state, token).ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Decrement(ref args.self._inUse);
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
