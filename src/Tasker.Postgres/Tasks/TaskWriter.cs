using Npgsql;
using Tasker.Postgres.Sql;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// Writes back changes of one or more tasks — per task the header, only the steps the change marked dirty, and its
/// new transitions — as the single compare-and-set statement <see cref="TaskSql.Write"/> (<see cref="TaskSql.WriteOne"/>
/// for one task).
/// </summary>
internal static class TaskWriter
{
    /// <summary>
    /// The uuids of the tasks written. A task missing from the answer was not written at all: its row_version is no
    /// longer the one its change was computed on (another writer moved it on since).
    /// </summary>
    public static async ValueTask<HashSet<Guid>> WriteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction,
        IReadOnlyList<TaskWrite> writes, StoreCounters counters, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Statement(writes), connection, transaction);
        new WriteColumns(writes).AddParameters(command.Parameters);
        counters.RoundTrip(1);
        counters.WriteStatement();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await WrittenAsync(reader, writes.Count, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="WriteAsync"/> and <c>COMMIT</c> in one round trip, for a transaction begun with a plain <c>BEGIN</c>
    /// (no <see cref="NpgsqlTransaction"/>) that holds every row it writes (a work claim's).
    /// </summary>
    public static async ValueTask<HashSet<Guid>> WriteAndCommitAsync(NpgsqlConnection connection, IReadOnlyList<TaskWrite> writes,
        StoreCounters counters, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection);
        var write = new NpgsqlBatchCommand(Statement(writes));
        new WriteColumns(writes).AddParameters(write.Parameters);
        batch.BatchCommands.Add(write);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        counters.RoundTrip(1);
        counters.WriteStatement();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var written = await WrittenAsync(reader, writes.Count, cancellationToken).ConfigureAwait(false);
        while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false)) { }
        return written;
    }

    private static string Statement(IReadOnlyList<TaskWrite> writes) => writes.Count == 1 ? TaskSql.WriteOne : TaskSql.Write;

    private static async ValueTask<HashSet<Guid>> WrittenAsync(NpgsqlDataReader reader, int capacity, CancellationToken cancellationToken)
    {
        var written = new HashSet<Guid>(capacity);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            written.Add(reader.GetGuid(0));
        return written;
    }
}
