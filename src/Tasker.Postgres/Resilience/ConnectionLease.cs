using Npgsql;

namespace Tasker.Postgres.Resilience;

/// <summary>
/// One attempt's connection, taken from the pool only when the attempt first needs it. A task update that finds its
/// task in this process's cache needs none until its write, and a write that joins another's batch needs none at all
/// (the batch's leader sends it on its own connection): so a process whose handlers finish together holds one
/// connection for their writes, not one per waiting writer, and a pool the user sized small still batches them all.
/// </summary>
internal sealed class ConnectionLease(StoreExecutor executor)
{
    private NpgsqlConnection? _connection;

    /// <summary>The connection, taken now if this attempt has none yet.</summary>
    public ValueTask<NpgsqlConnection> GetAsync(CancellationToken cancellationToken) =>
        _connection is { } connection ? ValueTask.FromResult(connection) : TakeAsync(cancellationToken);

    /// <summary>The connection if one was taken (the executor hands it back after the attempt).</summary>
    internal NpgsqlConnection? Taken => _connection;

    private async ValueTask<NpgsqlConnection> TakeAsync(CancellationToken cancellationToken)
    {
        _connection = await executor.TakeConnectionAsync(cancellationToken).ConfigureAwait(false);
        return _connection;
    }
}
