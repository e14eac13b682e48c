namespace Tasker.Postgres.Sql;

/// <summary>What operators (the <c>tasker</c> command, its dashboard) read and delete beyond the engine's own needs.</summary>
internal static class OperatorSql
{
    /// <summary>Every registered template version with its step count and how many tasks use it, newest version first.</summary>
    public const string Templates = """
        SELECT s.name AS Namespace, n.name AS Name, n.version AS Version, n.description AS Description,
               (SELECT count(*) FROM tasker_named_steps ns WHERE ns.named_task_uuid = n.named_task_uuid) AS StepCount,
               n.updated_at AS RegisteredAt
        FROM tasker_named_tasks n
        JOIN tasker_namespaces s ON s.namespace_uuid = n.namespace_uuid
        ORDER BY s.name, n.name, n.version_major DESC, n.version_minor DESC, n.version_patch DESC,
                 (n.version_prerelease IS NULL) DESC, n.version_prerelease COLLATE "C" DESC
        """;

    /// <summary>
    /// One batch of finished tasks older than @Before (with @IncludeErrors, also those that ended in error), deleted with their steps, edges and
    /// audit trail (by the statement trigger <c>tasker_delete_task_rows</c>, migration 11). SKIP LOCKED: a task some process is writing right now is left for the next batch or run. Small
    /// batches keep each transaction, its locks and its WAL burst short on a busy database.
    /// </summary>
    public const string PruneBatch = """
        WITH doomed AS (
            SELECT task_uuid FROM tasker_tasks
            WHERE (finished_state IN ('complete', 'cancelled', 'resolved_manually') OR (@IncludeErrors AND finished_state = 'error'))
              AND finished_at < @Before
            ORDER BY finished_at
            LIMIT @Batch
            FOR UPDATE SKIP LOCKED)
        DELETE FROM tasker_tasks t USING doomed d WHERE t.task_uuid = d.task_uuid
        RETURNING t.task_uuid
        """;

    /// <summary>
    /// The dead rows of the tables every task write updates (tasker_tasks and tasker_workflow_steps, in this schema)
    /// and when autovacuum will clear them: its vacuum threshold as PostgreSQL computes it (the table's own
    /// <c>autovacuum_vacuum_threshold</c> and <c>autovacuum_vacuum_scale_factor</c> if set, the server's otherwise,
    /// times the estimated rows), and whether autovacuum runs for the table at all (it needs <c>track_counts</c> too).
    /// The tables are found as every other statement finds them, through the search path. The counts are the statistics
    /// system's: a backend reports its changes within a second or so of its transaction, and they are estimates.
    /// </summary>
    public const string TableHealth = """
        SELECT c.relname AS "Table", coalesce(s.n_live_tup, 0) AS LiveRows, coalesce(s.n_dead_tup, 0) AS DeadRows,
               coalesce(o.threshold, current_setting('autovacuum_vacuum_threshold')::float8)
                 + coalesce(o.scale_factor, current_setting('autovacuum_vacuum_scale_factor')::float8) * greatest(c.reltuples, 0) AS VacuumAt,
               current_setting('autovacuum')::boolean AND current_setting('track_counts')::boolean AND coalesce(o.enabled, true)
                 AS Autovacuum,
               s.last_vacuum AS LastVacuum, s.last_autovacuum AS LastAutovacuum
        FROM pg_class c
        LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
        CROSS JOIN LATERAL (
            SELECT max(option_value) FILTER (WHERE option_name = 'autovacuum_vacuum_threshold')::float8 AS threshold,
                   max(option_value) FILTER (WHERE option_name = 'autovacuum_vacuum_scale_factor')::float8 AS scale_factor,
                   max(option_value) FILTER (WHERE option_name = 'autovacuum_enabled')::boolean AS enabled
            FROM pg_options_to_table(c.reloptions)) o
        WHERE c.oid IN (to_regclass('tasker_tasks'), to_regclass('tasker_workflow_steps'))
        ORDER BY c.relname
        """;
}
