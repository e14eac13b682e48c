using Dapper;
using Tasker.Core;
using Tasker.Core.Storage;
using Tasker.Postgres.Resilience;
using Tasker.Postgres.Sql;

namespace Tasker.Postgres.Queries;

/// <summary>
/// Listings, the audit trail, stale work and health counts: plain reads mapped by Dapper.AOT. (Results are
/// materialized with LINQ's ToList, never Dapper's AsList: that one lives on SqlMapper, whose reflection-based static
/// constructor would then be rooted under NativeAOT.)
/// </summary>
internal sealed class TaskQueries(StoreExecutor executor, StoreCounters counters)
{
    internal sealed class SummaryRow
    {
        public Guid TaskUuid { get; set; }
        public string Namespace { get; set; } = "";
        public string Name { get; set; } = "";
        public string Version { get; set; } = "";
        public string State { get; set; } = "";
        public DateTime CreatedAt { get; set; }
        public DateTime UpdatedAt { get; set; }
    }

    internal sealed class TransitionRow
    {
        public Guid? StepUuid { get; set; }
        public string? StepName { get; set; }
        public string? FromState { get; set; }
        public string ToState { get; set; } = "";
        public string Reason { get; set; } = "";
        public string? Actor { get; set; }
        public DateTime At { get; set; }
        public int? Attempt { get; set; }
        public int Ordinal { get; set; }
    }

    internal sealed class LeaseRow
    {
        public Guid TaskUuid { get; set; }
        public Guid StepUuid { get; set; }
        public string StepName { get; set; } = "";
        public DateTime LeaseExpiresAt { get; set; }
    }

    internal sealed class RetryRow
    {
        public Guid TaskUuid { get; set; }
        public DateTime NextRetryAt { get; set; }
    }

    internal sealed class CountRow
    {
        public string Kind { get; set; } = "";
        public string? Handler { get; set; }
        public long Count { get; set; }
    }

    internal sealed class UnclaimedRow
    {
        public Guid TaskUuid { get; set; }
        public Guid StepUuid { get; set; }
        public string StepName { get; set; } = "";
        public string Handler { get; set; } = "";
        public DateTime ReadySince { get; set; }
    }

    internal sealed class UndrivenRow
    {
        public Guid TaskUuid { get; set; }
        public string Namespace { get; set; } = "";
        public string Name { get; set; } = "";
        public DateTime PendingSince { get; set; }
    }

    internal sealed class StatsRow
    {
        public string Kind { get; set; } = "";
        public string? State { get; set; }
        public long Count { get; set; }
        public DateTime? Oldest { get; set; }
    }

    public ValueTask<StoreStats> GetStatsAsync(int poolSize, Func<int> connectionsInUse, CancellationToken cancellationToken) =>
        executor.RunAsync("get_stats", (poolSize, connectionsInUse, counters), static async (connection, s, token) =>
        {
            var (poolSize, connectionsInUse, counters) = s;
            counters.RoundTrip(1);
            var rows = (await connection.QueryAsync<StatsRow>(QuerySql.Stats, new { Cancel = token }).ConfigureAwait(false)).ToList();
            var tasks = Enum.GetValues<TaskState>().ToDictionary(st => st.ToWire(), _ => 0L);
            var steps = Enum.GetValues<StepState>().ToDictionary(st => st.ToWire(), _ => 0L);
            DateTimeOffset? oldest = null;
            foreach (var row in rows)
            {
                if (row.Kind == "task") tasks[row.State!] = row.Count;
                else if (row.Kind == "step") steps[row.State!] = row.Count;
                else if (row.Oldest is { } at) oldest = Utc(at);
            }
            return new StoreStats("postgres", tasks, steps, oldest, connectionsInUse(), poolSize);
        }, cancellationToken);

    public ValueTask<IReadOnlyList<TaskSummary>> ListTasksAsync(TaskQuery query, CancellationToken cancellationToken) =>
        executor.RunAsync("list_tasks", (query, counters), static async (connection, s, token) =>
        {
            var (query, counters) = s;
            counters.RoundTrip(1);
            var args = new
            {
                State = query.State?.ToWire(),
                query.Namespace,
                query.Name,
                Limit = Math.Max(query.Limit, 0),
                CreatedAfter = query.CreatedAfter?.UtcDateTime,
                CreatedBefore = query.CreatedBefore?.UtcDateTime,
                query.Offset,
                Cancel = token,
            };
            // One statement per kind of state filter, so each generic plan has its index (QuerySql.ListAnyState).
            var rows = query.State is not { } state ? await connection.QueryAsync<SummaryRow>(QuerySql.ListAnyState, args).ConfigureAwait(false)
                : state.IsFinished() ? await connection.QueryAsync<SummaryRow>(QuerySql.ListFinished, args).ConfigureAwait(false)
                : await connection.QueryAsync<SummaryRow>(QuerySql.ListUnfinished, args).ConfigureAwait(false);
            return (IReadOnlyList<TaskSummary>)rows.Select(r => new TaskSummary(r.TaskUuid, r.Namespace, r.Name, r.Version,
                StateNames.ParseTaskState(r.State), Utc(r.CreatedAt), Utc(r.UpdatedAt))).ToArray();
        }, cancellationToken);

    public ValueTask<IReadOnlyList<TransitionRecord>> GetTransitionsAsync(Guid taskUuid, CancellationToken cancellationToken) =>
        executor.RunAsync("get_transitions", (taskUuid, counters), static async (connection, s, token) =>
        {
            var (taskUuid, counters) = s;
            counters.RoundTrip(1);
            var rows = (await connection.QueryAsync<TransitionRow>(QuerySql.Transitions,
                new { TaskUuid = taskUuid, Cancel = token }).ConfigureAwait(false)).ToList();
            if (rows.Count == 0) // every task has at least its creation transition
                throw TaskerException.NotFound("task", taskUuid.ToString());
            return (IReadOnlyList<TransitionRecord>)rows.Select(r => new TransitionRecord(r.StepUuid, r.StepName, r.FromState, r.ToState,
                r.Reason, r.Actor, Utc(r.At), r.Attempt)).ToArray();
        }, cancellationToken);

    public ValueTask<StaleWork> ListStaleWorkAsync(DateTimeOffset now, int limit, StaleThresholds thresholds, CancellationToken cancellationToken) =>
        executor.RunAsync("list_stale_work", (now, limit, thresholds, counters), static async (connection, s, token) =>
        {
            var (now, limit, thresholds, counters) = s;
            var args = new
            {
                Now = now.UtcDateTime,
                Limit = limit,
                ReadyBefore = (now - thresholds.UnclaimedAfter).UtcDateTime,
                PendingBefore = (now - thresholds.PendingAfter).UtcDateTime,
                Cancel = token,
            };
            counters.RoundTrip(1);
            var leases = await connection.QueryAsync<LeaseRow>(QuerySql.ExpiredLeases, args).ConfigureAwait(false);
            counters.RoundTrip(1);
            var retries = await connection.QueryAsync<RetryRow>(QuerySql.RetriesDue, args).ConfigureAwait(false);
            counters.RoundTrip(1);
            var unclaimed = await connection.QueryAsync<UnclaimedRow>(QuerySql.UnclaimedSteps, args).ConfigureAwait(false);
            counters.RoundTrip(1);
            var undriven = await connection.QueryAsync<UndrivenRow>(QuerySql.UndrivenTasks, args).ConfigureAwait(false);
            return new StaleWork(
                leases.Select(r => new ExpiredLease(r.TaskUuid, r.StepUuid, r.StepName, Utc(r.LeaseExpiresAt))).ToArray(),
                retries.Select(r => new RetryDue(r.TaskUuid, Utc(r.NextRetryAt))).ToArray(),
                unclaimed.Select(r => new UnclaimedStep(r.TaskUuid, r.StepUuid, r.StepName, r.Handler, Utc(r.ReadySince))).ToArray(),
                undriven.Select(r => new UndrivenTask(r.TaskUuid, r.Namespace, r.Name, Utc(r.PendingSince))).ToArray());
        }, cancellationToken);

    public ValueTask<WorkCounts> CountWorkAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        executor.RunAsync("count_work", (now, counters), static async (connection, s, token) =>
        {
            var (now, counters) = s;
            counters.RoundTrip(1);
            var rows = await connection.QueryAsync<CountRow>(QuerySql.WorkCounts, new { Now = now.UtcDateTime, Cancel = token }).ConfigureAwait(false);
            var byHandler = new Dictionary<string, long>(StringComparer.Ordinal);
            long leases = 0, retries = 0;
            foreach (var row in rows)
            {
                switch (row.Kind)
                {
                    case "ready": byHandler[row.Handler!] = row.Count; break;
                    case "expired_lease": leases = row.Count; break;
                    case "retry_due": retries = row.Count; break;
                }
            }
            return new WorkCounts(byHandler, leases, retries);
        }, cancellationToken);

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
