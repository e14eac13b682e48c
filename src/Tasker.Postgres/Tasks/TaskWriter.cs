using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Sql;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// Writes back what one change did — the header, only the steps it marked dirty, and its new transitions — as the
/// single compare-and-set statement <see cref="TaskSql.Write"/>.
/// </summary>
internal static class TaskWriter
{
    /// <summary>
    /// True when written; false when the task's row_version is no longer <paramref name="rowVersion"/> (another writer
    /// moved it on since this state was read).
    /// </summary>
    public static async ValueTask<bool> WriteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long rowVersion,
        int transitionCount, WorkflowTask task, TransitionRows transitions, Guid writeUuid, StoreCounters counters, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(TaskSql.Write, connection, transaction);
        var p = command.Parameters;
        var h = task.Header;
        p.Add(new NpgsqlParameter<Guid> { TypedValue = task.Uuid });
        p.Add(new NpgsqlParameter<long> { TypedValue = rowVersion });
        p.Add(new NpgsqlParameter<string> { TypedValue = h.State.ToWire() });
        p.Add(Parameters.Timestamp(h.UpdatedAt));
        p.Add(Parameters.Timestamp(h.FinishedAt));
        p.Add(new NpgsqlParameter<int> { TypedValue = transitionCount + task.NewTransitions.Count });
        p.Add(new NpgsqlParameter<Guid> { TypedValue = writeUuid });
        AddSteps(p, task);
        transitions.AddParameters(p);

        counters.RoundTrip(1);
        var written = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return written is int count && count == 1;
    }

    /// <summary>Twelve parameters: the mutable columns of the dirty steps.</summary>
    private static void AddSteps(NpgsqlParameterCollection p, WorkflowTask task)
    {
        var dirty = task.DirtySteps;
        var n = dirty.Count;
        var uuid = new Guid[n];
        var state = new string?[n];
        var attempts = new int[n];
        var result = new string?[n];
        var metadata = new string?[n];
        var lastError = new string?[n];
        var nextRetryAt = new DateTime?[n];
        var claimToken = new string?[n];
        var leaseExpiresAt = new DateTime?[n];
        var claimedBy = new string?[n];
        var startedAt = new DateTime?[n];
        var finishedAt = new DateTime?[n];
        for (var k = 0; k < n; k++)
        {
            var s = task.Steps[dirty[k]];
            uuid[k] = s.Uuid;
            state[k] = s.State.ToWire();
            attempts[k] = s.Attempts;
            result[k] = s.Result?.GetRawText();
            metadata[k] = s.Metadata?.GetRawText();
            lastError[k] = StepErrorJson.Write(s.LastError);
            nextRetryAt[k] = Parameters.Utc(s.NextRetryAt);
            claimToken[k] = s.ClaimToken;
            leaseExpiresAt[k] = Parameters.Utc(s.LeaseExpiresAt);
            claimedBy[k] = s.ClaimedBy;
            startedAt[k] = Parameters.Utc(s.StartedAt);
            finishedAt[k] = Parameters.Utc(s.FinishedAt);
        }
        p.Add(Parameters.Array(uuid));
        p.Add(Parameters.TextArray(state));
        p.Add(Parameters.Array(attempts));
        p.Add(Parameters.TextArray(result));
        p.Add(Parameters.TextArray(metadata));
        p.Add(Parameters.TextArray(lastError));
        p.Add(Parameters.TimestampArray(nextRetryAt));
        p.Add(Parameters.TextArray(claimToken));
        p.Add(Parameters.TimestampArray(leaseExpiresAt));
        p.Add(Parameters.TextArray(claimedBy));
        p.Add(Parameters.TimestampArray(startedAt));
        p.Add(Parameters.TimestampArray(finishedAt));
    }
}
