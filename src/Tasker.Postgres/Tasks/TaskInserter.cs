using Dapper;
using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Sql;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// Creates a task with its steps, edges and first transition in one statement (<see cref="TaskSql.Create"/>).
/// Identity uniqueness is the database's job (a unique index and <c>ON CONFLICT DO NOTHING</c>), so two processes
/// creating the same task at once get one task. Safe to repeat: a retry after a lost reply finds its own uuid.
/// </summary>
internal static class TaskInserter
{
    /// <summary>
    /// Inserts the task, unless a task of its uuid or identity exists (<c>Created: false</c>, with that task's uuid) or
    /// the template is no longer the one <paramref name="templateFingerprint"/> describes (<c>TemplateChanged</c>:
    /// nothing written; null skips that check). Unless <paramref name="definitionKnown"/>, the handlers of the task's
    /// definition are recorded for work claims too (<c>tasker_definition_handlers</c>).
    /// </summary>
    public static async ValueTask<(Guid TaskUuid, bool Created, bool TemplateChanged)> InsertAsync(NpgsqlConnection connection, WorkflowTask task,
        string definitionKey, bool definitionKnown, string? templateFingerprint, bool announce, bool carryTask, string channel,
        StoreCounters counters, CancellationToken cancellationToken)
    {
        bool templateChanged;
        await using (var command = new NpgsqlCommand())
        {
            command.Connection = connection;
            var (context, parts) = AddParameters(command.Parameters, task, definitionKey);
            if (!definitionKnown) parts |= TaskSql.CreateParts.RecordDefinition;
            command.CommandText = TaskSql.Create(parts);
            command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = announce }); // $50
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channel }); // $51
            command.Parameters.Add(Parameters.Timestamp(task.ClaimableAt())); // $52: where a work claim's find looks
            command.Parameters.Add(Parameters.Text(templateFingerprint)); // $53: the template as the task was made from it
            // $54: the task for a waiting worker to claim in one round trip (Work.Announcement)
            command.Parameters.Add(Parameters.Text(carryTask ? Work.Announcement.Write(task, definitionKey, task.NewTransitions.Count) : null));
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Work.HandlerMask.Of(task) }); // $55: the handlers it can be claimed for
            counters.RoundTrip(1);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false); // always one row
            templateChanged = !reader.GetBoolean(0);
            if (!reader.IsDBNull(1))
            {
                // The context as jsonb keeps it (keys reordered, duplicates dropped, numbers normalized): what every
                // read of the task returns, so the creator's answer shows the same. When that is the text sent (JSON
                // written as jsonb prints it, e.g. Python's json.dumps with its keys in jsonb's order), no parse: the
                // caller's element is kept, cloned if its document is one the caller may dispose (free otherwise), since
                // the task stays in this process's cache.
                var stored = reader.GetString(2);
                task.Header.Context = string.Equals(stored, context, StringComparison.Ordinal)
                    ? task.Header.Context.Clone()
                    : JsonValues.Parse(stored, "context");
                return (reader.GetGuid(1), true, false);
            }
        }

        var h = task.Header;
        counters.RoundTrip(1);
        var existing = await connection.QueryFirstOrDefaultAsync<Guid?>(TaskSql.FindExisting,
            new { TaskUuid = h.Uuid, h.Namespace, h.Name, h.Identity, Cancel = cancellationToken }).ConfigureAwait(false);
        return existing switch
        {
            { } uuid when uuid == h.Uuid => (uuid, true, false), // our own earlier attempt committed; its reply was lost
            { } uuid => (uuid, false, false),
            // Not inserted because the template changed (and no earlier attempt of ours landed): nothing was written.
            null when templateChanged => (Guid.Empty, false, true),
            // The conflicting task vanished between the two statements (deleted): report it rather than guess.
            null => throw new TaskerException(TaskerErrorCode.Conflict, $"task identity conflict for {h.Namespace}/{h.Name}; try again",
                new Dictionary<string, string> { ["namespace"] = h.Namespace, ["name"] = h.Name }),
        };
    }

    /// <summary>Adds $1 to $49; returns the context as sent and the parts of the create they call for (edges, step transitions).</summary>
    private static (string Context, TaskSql.CreateParts Parts) AddParameters(NpgsqlParameterCollection p, WorkflowTask task, string definitionKey)
    {
        var h = task.Header;
        var context = h.Context.GetRawText();
        p.Add(new NpgsqlParameter<Guid> { TypedValue = h.Uuid });
        p.Add(new NpgsqlParameter<string> { TypedValue = h.Namespace });
        p.Add(new NpgsqlParameter<string> { TypedValue = h.Name });
        p.Add(new NpgsqlParameter<string> { TypedValue = h.Version });
        p.Add(new NpgsqlParameter<string> { TypedValue = h.State.ToWire() });
        p.Add(new NpgsqlParameter<string> { TypedValue = context });
        p.Add(Parameters.Array(h.Tags.ToArray()));
        p.Add(new NpgsqlParameter<int> { TypedValue = h.Priority });
        p.Add(Parameters.Text(h.Initiator));
        p.Add(Parameters.Text(h.SourceSystem));
        p.Add(Parameters.Text(h.Reason));
        p.Add(Parameters.Text(h.CorrelationId));
        p.Add(Parameters.Text(h.IdempotencyKey));
        p.Add(Parameters.Text(h.Identity));
        p.Add(new NpgsqlParameter<bool> { TypedValue = h.FailFast });
        p.Add(new NpgsqlParameter<string> { TypedValue = definitionKey });
        p.Add(new NpgsqlParameter<int> { TypedValue = task.NewTransitions.Count });
        p.Add(Parameters.Timestamp(h.CreatedAt));
        p.Add(Parameters.Timestamp(h.UpdatedAt));
        p.Add(Parameters.Timestamp(h.FinishedAt));

        var steps = task.Steps;
        p.Add(Parameters.Array(steps.Select(s => s.Uuid).ToArray()));
        p.Add(Parameters.Array(steps.Select(s => s.Index).ToArray()));
        p.Add(Parameters.TextArray(steps.Select(s => (string?)s.Name).ToArray()));
        p.Add(Parameters.TextArray(steps.Select(s => (string?)s.Handler).ToArray()));
        p.Add(Parameters.TextArray(steps.Select(s => s.Initialization?.GetRawText()).ToArray()));
        p.Add(Parameters.Array(steps.Select(s => s.Retryable).ToArray()));
        p.Add(Parameters.Array(steps.Select(s => s.MaxAttempts).ToArray()));
        p.Add(Parameters.DoubleArray(steps.Select(s => s.BackoffBaseSeconds).ToArray()));
        p.Add(Parameters.DoubleArray(steps.Select(s => s.MaxBackoffSeconds).ToArray()));
        p.Add(Parameters.IntArray(steps.Select(s => s.TimeoutSeconds).ToArray()));
        p.Add(Parameters.TextArray(steps.Select(s => (string?)s.State.ToWire()).ToArray()));
        p.Add(Parameters.Array(steps.Select(s => s.Attempts).ToArray()));

        var to = new List<Guid>(task.Graph.EdgeCount);
        var from = new List<Guid>(task.Graph.EdgeCount);
        var position = new List<int>(task.Graph.EdgeCount);
        foreach (var step in steps)
        {
            var parents = task.Graph.ParentsOf(step.Index);
            for (var k = 0; k < parents.Length; k++)
            {
                to.Add(step.Uuid);
                from.Add(steps[parents[k]].Uuid);
                position.Add(k);
            }
        }
        p.Add(Parameters.Array(to.ToArray()));
        p.Add(Parameters.Array(from.ToArray()));
        p.Add(Parameters.Array(position.ToArray()));

        var transitions = new TransitionRows(task.NewTransitions, 1);
        transitions.AddParameters(p); // $36-$44
        p.Add(Parameters.Text(h.TraceParent)); // $45
        p.Add(Parameters.Timestamp(h.RequestedAt)); // $46
        // A step can be finished at creation (bypass_steps): its metadata and finish time are written with it.
        p.Add(Parameters.TextArray(steps.Select(s => s.Metadata?.GetRawText()).ToArray())); // $47
        p.Add(Parameters.TimestampArray(steps.Select(s => s.FinishedAt?.UtcDateTime).ToArray())); // $48
        p.Add(Parameters.Int(h.TimeoutSeconds)); // $49
        var parts = TaskSql.CreateParts.None;
        if (to.Count > 0) parts |= TaskSql.CreateParts.Edges;
        if (transitions.HasStepRows) parts |= TaskSql.CreateParts.StepTransitions;
        return (context, parts);
    }
}
