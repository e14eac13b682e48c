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

    public const string Record = "INSERT INTO tasker_schema_migrations (version, name, checksum) VALUES (@Version, @Name, @Checksum)";
}
