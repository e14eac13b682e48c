using Npgsql;

namespace Tasker.Postgres.Resilience;

/// <summary>
/// One attempt's connection, taken from the pool only when the attempt first needs it, and handed back early when
/// the attempt will wait without using it. A task update that finds its task in this process's cache needs none until
/// its write, and a write that joins another's batch needs none at all (the batch's leader sends it on its own
/// connection; one that loaded its task hands that connection back while it waits): so a process whose handlers finish
/// together holds one connection for their writes, not one per waiting writer, and a pool the user sized small still
/// batches them all.
/// </summary>
internal sealed class ConnectionLease(StoreExecutor executor)
{
    private NpgsqlConnection? _connection;

    /// <summary>The connection, taken now if this attempt has none yet.</summary>
    public ValueTask<NpgsqlConnection> GetAsync(CancellationToken cancellationToken) =>
        _connection is { } connection ? ValueTask.FromResult(connection) : TakeAsync(cancellationToken);

    /// <summary>The connection if one was taken (the executor hands it back after the attempt).</summary>
    internal NpgsqlConnection? Taken => _connection;

    /// <summary>
    /// Hands the connection back to the pool now, if one was taken; the next <see cref="GetAsync"/> takes one again.
    /// Only between statements outside a transaction: the connection must be clean.
    /// </summary>
    public ValueTask ReleaseAsync()
    {
        if (_connection is not { } connection)
            return ValueTask.CompletedTask;
        _connection = null;
        return executor.GiveBackAsync(connection);
    }

    private async ValueTask<NpgsqlConnection> TakeAsync(CancellationToken cancellationToken)
    {
        _connection = await executor.TakeConnectionAsync(cancellationToken).ConfigureAwait(false);
        return _connection;
    }
}
