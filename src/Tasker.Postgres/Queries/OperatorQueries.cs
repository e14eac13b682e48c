using Dapper;
using Tasker.Core;
using Tasker.Postgres.Resilience;
using Tasker.Postgres.Sql;

namespace Tasker.Postgres.Queries;

/// <summary>A registered template version, as operators list them.</summary>
public sealed record TemplateSummary(string Namespace, string Name, string Version, string? Description, int StepCount, DateTimeOffset RegisteredAt);

/// <summary>Operator reads and retention: the template list and pruning finished tasks.</summary>
internal sealed class OperatorQueries(StoreExecutor executor, StoreCounters counters)
{
    internal sealed class TemplateRow
    {
        public string Namespace { get; set; } = "";
        public string Name { get; set; } = "";
        public string Version { get; set; } = "";
        public string? Description { get; set; }
        public long StepCount { get; set; }
        public DateTime RegisteredAt { get; set; }
    }

    internal sealed class TableHealthRow
    {
        public string Table { get; set; } = "";
        public long LiveRows { get; set; }
        public long DeadRows { get; set; }
        public double VacuumAt { get; set; }
        public bool Autovacuum { get; set; }
        public DateTime? LastVacuum { get; set; }
        public DateTime? LastAutovacuum { get; set; }
    }

    public ValueTask<IReadOnlyList<TemplateSummary>> ListTemplatesAsync(CancellationToken cancellationToken) =>
        executor.RunAsync("list_templates", counters, static async (connection, counters, token) =>
        {
            counters.RoundTrip(1);
            var rows = await connection.QueryAsync<TemplateRow>(OperatorSql.Templates, new { Cancel = token }).ConfigureAwait(false);
            return (IReadOnlyList<TemplateSummary>)rows.Select(r => new TemplateSummary(r.Namespace, r.Name, r.Version, r.Description,
                (int)r.StepCount, new DateTimeOffset(DateTime.SpecifyKind(r.RegisteredAt, DateTimeKind.Utc)))).ToArray();
        }, cancellationToken);

    /// <summary>Deletes one batch; returns the uuids deleted (empty when nothing is left).</summary>
    /// <remarks>No array parameter: Dapper expands those through SqlMapper (reflection), which NativeAOT cannot run.</remarks>
    public ValueTask<IReadOnlyList<Guid>> PruneBatchAsync(DateTimeOffset before, bool includeErrors, int batch, CancellationToken cancellationToken) =>
        executor.RunAsync("prune", (before.UtcDateTime, includeErrors, batch, counters), static async (connection, s, token) =>
        {
            var (before, includeErrors, batch, counters) = s;
            counters.RoundTrip(1);
            var deleted = await connection.QueryAsync<Guid>(OperatorSql.PruneBatch,
                new { Before = before, IncludeErrors = includeErrors, Batch = batch, Cancel = token }).ConfigureAwait(false);
            return (IReadOnlyList<Guid>)deleted.ToArray();
        }, cancellationToken);

    public ValueTask<IReadOnlyList<TableHealth>> GetTableHealthAsync(CancellationToken cancellationToken) =>
        executor.RunAsync("table_health", counters, static async (connection, counters, token) =>
        {
            counters.RoundTrip(1);
            var rows = await connection.QueryAsync<TableHealthRow>(OperatorSql.TableHealth, new { Cancel = token }).ConfigureAwait(false);
            return (IReadOnlyList<TableHealth>)rows.Select(Health).ToArray();
        }, cancellationToken);

    private static TableHealth Health(TableHealthRow r)
    {
        var automatic = r.LastAutovacuum is { } auto && (r.LastVacuum is not { } manual || auto > manual);
        var last = automatic ? r.LastAutovacuum : r.LastVacuum;
        return new TableHealth(r.Table, r.LiveRows, r.DeadRows, (long)Math.Ceiling(r.VacuumAt), r.Autovacuum,
            last is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null, automatic);
    }
}
