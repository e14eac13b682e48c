using Npgsql;
using Tasker.Postgres.Sql;
using Tasker.Postgres.Tasks;

namespace Tasker.Postgres.Work;

/// <summary>
/// The parameters $34–$48 of <see cref="TaskSql.WriteOneAnnounced"/>: each task as its announcement described it (the
/// rows it was claimed on), for the write to check against the database before it writes anything.
/// </summary>
internal static class AnnouncedColumns
{
    public static void AddParameters(NpgsqlParameterCollection p, IReadOnlyList<TaskRow> rows, bool durable)
    {
        var n = rows.Count;
        var uuid = new Guid[n];
        var ns = new string?[n];
        var name = new string?[n];
        var version = new string?[n];
        var priority = new int[n];
        var failFast = new bool[n];
        var createdAt = new DateTime?[n];
        var requestedAt = new DateTime?[n];
        var timeout = new int?[n];
        var definitionKey = new string?[n];
        var transitionCount = new int[n];
        var stepCount = new int[n];
        var stepOffset = new int[n];
        var stepUuid = new List<Guid>();
        for (var i = 0; i < n; i++)
        {
            var row = rows[i];
            var h = row.Header; // the fields below are the announced ones: a claim changes none of them
            (uuid[i], ns[i], name[i], version[i], priority[i], failFast[i]) = (row.TaskUuid, h.Namespace, h.Name, h.Version, h.Priority, h.FailFast);
            (createdAt[i], requestedAt[i], timeout[i]) = (h.CreatedAt.UtcDateTime, Parameters.Utc(h.RequestedAt), h.TimeoutSeconds);
            (definitionKey[i], transitionCount[i], stepCount[i], stepOffset[i]) = (row.DefinitionKey, row.TransitionCount, row.StepCount, stepUuid.Count);
            foreach (var step in row.StepUuids) stepUuid.Add(step); // an announced row lists its steps in index order
        }
        p.Add(Parameters.Array(uuid)); // $34
        p.Add(Parameters.TextArray(ns));
        p.Add(Parameters.TextArray(name));
        p.Add(Parameters.TextArray(version));
        p.Add(Parameters.Array(priority));
        p.Add(Parameters.Array(failFast));
        p.Add(Parameters.TimestampArray(createdAt));
        p.Add(Parameters.TimestampArray(requestedAt)); // $41
        p.Add(Parameters.IntArray(timeout));
        p.Add(Parameters.TextArray(definitionKey));
        p.Add(Parameters.Array(transitionCount));
        p.Add(Parameters.Array(stepCount));
        p.Add(Parameters.Array(stepOffset)); // $46
        p.Add(Parameters.Array(stepUuid.ToArray()));
        p.Add(new NpgsqlParameter<bool> { TypedValue = durable }); // $48: flushed at commit
    }
}
