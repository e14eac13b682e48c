using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Sql;

namespace Tasker.Postgres.Migrations;

/// <summary>
/// Applies the embedded <c>Migrations/NNNN_name.sql</c> scripts in version order, each recorded in
/// <c>tasker_schema_migrations</c> with its checksum. Everything runs in one transaction holding an advisory lock, so
/// several processes starting at once are safe: the first applies, the others wait and then find nothing to do.
/// A shipped script that was edited afterwards (checksum mismatch) stops the migration instead of drifting silently.
/// </summary>
internal sealed class Migrator(PostgresStoreOptions options)
{
    internal sealed record Script(int Version, string Name, string Sql, string Checksum);

    internal sealed class AppliedRow
    {
        public int Version { get; set; }
        public string Name { get; set; } = "";
        public string Checksum { get; set; } = "";
    }

    private static readonly Lazy<IReadOnlyList<Script>> Embedded = new(LoadScripts);

    public static IReadOnlyList<Script> Scripts => Embedded.Value;

    /// <summary>Applies what is pending; returns the versions applied by this call (empty when up to date).</summary>
    public async ValueTask<IReadOnlyList<int>> MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        await ExecuteAsync(connection, transaction, MigrationSql.LockTimeout(options.MigrationLockTimeout), cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand(MigrationSql.Lock, connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "tasker.migrations:" + (options.Schema ?? "") });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        if (options.Schema is not null)
            await ExecuteAsync(connection, transaction, MigrationSql.CreateSchema(options.Schema), cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, MigrationSql.CreateHistory, cancellationToken).ConfigureAwait(false);

        var applied = (await connection.QueryAsync<AppliedRow>(MigrationSql.Applied, transaction: transaction).ConfigureAwait(false))
            .ToDictionary(r => r.Version);
        var done = new List<int>();
        foreach (var script in Scripts)
        {
            if (applied.TryGetValue(script.Version, out var row))
            {
                if (row.Checksum != script.Checksum)
                    throw new TaskerException(TaskerErrorCode.Database,
                        $"migration {script.Version} ({script.Name}) differs from the one applied to this database (checksum mismatch); " +
                        "shipped migrations must never change",
                        new Dictionary<string, string> { ["migration"] = script.Version.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                continue;
            }
            await ExecuteAsync(connection, transaction, script.Sql, cancellationToken).ConfigureAwait(false);
            await connection.ExecuteAsync(MigrationSql.Record, new { script.Version, script.Name, script.Checksum }, transaction).ConfigureAwait(false);
            done.Add(script.Version);
        }
        if (done.Contains(1))
            await ExecuteAsync(connection, transaction, MigrationSql.AnalyzeNewTables, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return done;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        // No command timeout: DDL on a big table legitimately takes long; the migration's own pipeline bounds it.
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static List<Script> LoadScripts()
    {
        const string prefix = "Tasker.Postgres.Migrations.";
        var assembly = typeof(Migrator).Assembly;
        var scripts = new List<Script>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(prefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal)) continue;
            var file = resource[prefix.Length..^".sql".Length]; // e.g. 0001_initial
            var underscore = file.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(file.AsSpan(0, underscore), System.Globalization.CultureInfo.InvariantCulture, out var version))
                throw new InvalidOperationException($"migration resource '{resource}' is not named NNNN_name.sql");
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            // Normalized line endings: a Windows checkout must produce the same checksum.
            var sql = reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
            var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
            scripts.Add(new Script(version, file[(underscore + 1)..], sql, checksum));
        }
        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < scripts.Count; i++)
            if (scripts[i].Version == scripts[i - 1].Version)
                throw new InvalidOperationException($"two migrations have version {scripts[i].Version}");
        return scripts;
    }
}
