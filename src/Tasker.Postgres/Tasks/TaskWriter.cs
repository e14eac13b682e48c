using Npgsql;
using Tasker.Postgres.Sql;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// Writes back changes of one or more tasks — per task the header, only the steps the change marked dirty, and its
/// new transitions — as the single compare-and-set statement <see cref="TaskSql.Write"/> (<see cref="TaskSql.WriteOne"/>
/// for one task; <see cref="TaskSql.WriteAnnounced"/> for claims on announced copies). A write of claims only commits
/// without waiting for the WAL flush unless <paramref name="durableClaims"/> (<see cref="PostgresStoreOptions.DurableClaims"/>).
/// </summary>
internal sealed class TaskWriter(StoreCounters counters, bool durableClaims)
{
    /// <summary>
    /// The uuids of the tasks written. A task missing from the answer was not written at all: its row_version is no
    /// longer the one its change was computed on (another writer moved it on since).
    /// </summary>
    public async ValueTask<HashSet<Guid>> WriteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction,
        IReadOnlyList<TaskWrite> writes, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Statement(writes), connection, transaction);
        new WriteColumns(writes).AddParameters(command.Parameters);
        counters.RoundTrip(1);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await WrittenAsync(reader, writes.Count, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes claims made on tasks as their announcements described them (<paramref name="announced"/>, one per write,
    /// <see cref="Work.Announcement"/>): a task is written only if its rows are still as announced, and comes back with
    /// the request fields its announcement left out. A task missing from the answer was not written at all.
    /// </summary>
    public async ValueTask<Dictionary<Guid, Work.AnnouncedRequest>> WriteAnnouncedAsync(NpgsqlConnection connection,
        IReadOnlyList<TaskWrite> writes, IReadOnlyList<TaskRow> announced, CancellationToken cancellationToken)
    {
        counters.WriteStatement();
        // A claim on a copy can still do more than claim (a task past its deadline fails): that write is flushed.
        var unflushed = !durableClaims && AllClaims(writes);
        if (unflushed) counters.UnflushedClaimWrite();
        await using var command = new NpgsqlCommand(writes.Count == 1 ? TaskSql.WriteOneAnnounced : TaskSql.WriteAnnounced, connection);
        new WriteColumns(writes).AddParameters(command.Parameters);
        Work.AnnouncedColumns.AddParameters(command.Parameters, announced, durable: !unflushed);
        counters.RoundTrip(1);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var written = new Dictionary<Guid, Work.AnnouncedRequest>(writes.Count);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var (uuid, request) = Work.AnnouncedRequest.Read(reader);
            written[uuid] = request;
        }
        return written;
    }

    /// <summary>
    /// <see cref="WriteAsync"/> and <c>COMMIT</c> in one round trip, for a transaction begun with a plain <c>BEGIN</c>
    /// (no <see cref="NpgsqlTransaction"/>) that holds every row it writes (a work claim's).
    /// </summary>
    public async ValueTask<HashSet<Guid>> WriteAndCommitAsync(NpgsqlConnection connection, IReadOnlyList<TaskWrite> writes,
        CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection);
        var write = new NpgsqlBatchCommand(Statement(writes));
        new WriteColumns(writes).AddParameters(write.Parameters);
        batch.BatchCommands.Add(write);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        counters.RoundTrip(1);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var written = await WrittenAsync(reader, writes.Count, cancellationToken).ConfigureAwait(false);
        while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false)) { }
        return written;
    }

    /// <summary>
    /// The statement for these writes, counted. Claims only (each write's <see cref="TransitionRows.ClaimsOnly"/>): the
    /// unflushed variant, since a claim lost to a database crash costs nothing its fencing does not already cover (the
    /// step is claimable again; its worker's report is refused as a stale claim, by its token or the row's write stamp),
    /// while its flush, run cold, cost a waiting worker about half a millisecond between a task's creation and its start
    /// (docs/performance.md, session 23). Every other write is flushed before it returns.
    /// </summary>
    private string Statement(IReadOnlyList<TaskWrite> writes)
    {
        counters.WriteStatement();
        if (durableClaims || !AllClaims(writes)) return writes.Count == 1 ? TaskSql.WriteOne : TaskSql.Write;
        counters.UnflushedClaimWrite();
        return writes.Count == 1 ? TaskSql.WriteOneClaim : TaskSql.WriteClaims;
    }

    private static bool AllClaims(IReadOnlyList<TaskWrite> writes)
    {
        for (var i = 0; i < writes.Count; i++)
            if (!writes[i].Transitions.ClaimsOnly) return false;
        return true;
    }

    private static async ValueTask<HashSet<Guid>> WrittenAsync(NpgsqlDataReader reader, int capacity, CancellationToken cancellationToken)
    {
        var written = new HashSet<Guid>(capacity);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            written.Add(reader.GetGuid(0));
        return written;
    }
}
