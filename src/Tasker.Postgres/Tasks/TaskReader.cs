using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Sql;

namespace Tasker.Postgres.Tasks;

/// <summary>Loads one task in a single round trip, optionally after taking its row lock (same round trip).</summary>
internal static class TaskReader
{
    /// <summary>
    /// Without a lock: one statement, one consistent snapshot. With a lock (inside <paramref name="transaction"/>):
    /// the lock statement and the load go out as one batch; the load, being the second statement, takes its snapshot
    /// after the lock is held.
    /// </summary>
    /// <exception cref="TaskerException">NotFound when the task does not exist.</exception>
    public static async ValueTask<TaskRow> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid taskUuid,
        StoreCounters counters, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (transaction is not null)
            batch.BatchCommands.Add(Command(TaskSql.Lock, taskUuid));
        batch.BatchCommands.Add(Command(TaskSql.Load, taskUuid));
        counters.RoundTrip(batch.BatchCommands.Count + (transaction is null ? 0 : 1)); // BEGIN rides along

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (transaction is not null)
        {
            var locked = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            if (!locked)
                throw TaskerException.NotFound("task", taskUuid.ToString());
        }
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            throw TaskerException.NotFound("task", taskUuid.ToString());
        return TaskRow.Read(reader, taskUuid);
    }

    /// <summary>Whether the task's transition row at this ordinal is the one with this uuid (in either audit table).</summary>
    public static async ValueTask<bool> TransitionExistsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid taskUuid,
        int ordinal, Guid transitionUuid, StoreCounters counters, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(TaskSql.TransitionExists, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = taskUuid });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = ordinal });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = transitionUuid });
        counters.RoundTrip(1);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }

    private static NpgsqlBatchCommand Command(string sql, Guid taskUuid)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = taskUuid });
        return command;
    }
}
