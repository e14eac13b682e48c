namespace Tasker.Postgres.Sql;

/// <summary>The statements the migrator runs around the embedded scripts.</summary>
internal static class MigrationSql
{
    /// <summary>
    /// Serializes migrators per schema across processes and machines; released automatically at commit or rollback
    /// (or when a crashed migrator's connection drops), so a dead process can never leave it held.
    /// </summary>
    public const string Lock = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

    /// <summary>Bounds the wait for the advisory lock; the value is validated milliseconds, not user text.</summary>
    public static string LockTimeout(TimeSpan timeout) =>
        $"SET LOCAL lock_timeout = {(long)Math.Ceiling(timeout.TotalMilliseconds)}";

    /// <summary>The schema name is checked against a plain identifier pattern (it cannot be a bind parameter).</summary>
    public static string CreateSchema(string schema) => $"CREATE SCHEMA IF NOT EXISTS {schema}";

    public const string CreateHistory = """
        CREATE TABLE IF NOT EXISTS tasker_schema_migrations (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            checksum   text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """;

    public const string Applied = "SELECT version AS Version, name AS Name, checksum AS Checksum FROM tasker_schema_migrations ORDER BY version";

    /// <summary>
    /// Statistics for freshly created tables. A table never analyzed is planned on default guesses (a handful of
    /// rows), and prepared statements run on generic plans cached per connection: a burst of tasks created right after
    /// installation made the worker find's plan sort the whole queue (22 ms per find at 2,000 queued tasks) until
    /// autovacuum got round to the table. Analyzed empty, the planner scales its estimates with the table's real size.
    /// </summary>
    public const string AnalyzeNewTables = "ANALYZE tasker_tasks, tasker_workflow_steps, tasker_workflow_step_edges";

    public const string Record = "INSERT INTO tasker_schema_migrations (version, name, checksum) VALUES (@Version, @Name, @Checksum)";
}
