using Npgsql;

namespace Tasker.Postgres.Connection;

/// <summary>
/// Builds the process's connection pool. The slim builder keeps NativeAOT output small and reflection-free; only
/// arrays are enabled (the store sends step batches as arrays for <c>unnest</c>). JSON travels as text.
/// </summary>
internal static class DataSourceFactory
{
    public static NpgsqlDataSource Create(PostgresStoreOptions options)
    {
        var connectionString = PostgresConnectionString.Normalize(options.ConnectionString);
        var builder = new NpgsqlSlimDataSourceBuilder(connectionString);
        builder.EnableArrays();
        var cs = builder.ConnectionStringBuilder;
        cs.MaxPoolSize = options.MaxPoolSize;
        cs.MinPoolSize = options.MinPoolSize;
        cs.CommandTimeout = (int)Math.Ceiling(options.CommandTimeout.TotalSeconds);
        if (string.IsNullOrEmpty(cs.ApplicationName))
            cs.ApplicationName = options.ApplicationName;
        if (options.Schema is not null)
            cs.SearchPath = options.Schema;
        // The store never changes session state, so the per-return DISCARD ALL is pure overhead.
        cs.NoResetOnClose = true;
        // The hot statements are few and fixed: prepare them server-side after two uses. A connection string that
        // says otherwise wins (e.g. "Max Auto Prepare=0" behind a pooler without prepared-statement support).
        if (!Mentions(connectionString, "Max Auto Prepare", "MaxAutoPrepare"))
        {
            cs.MaxAutoPrepare = 32;
            cs.AutoPrepareMinUsages = 2;
        }
        // The write-back statement is prepared once per connection; left to itself PostgreSQL re-plans it on every
        // execution (custom plans), which costs more than running it. Every tasker statement is a key lookup, so the
        // generic plan is always right.
        if (options.ForceGenericPlans)
            cs.Options = ((cs.Options ?? "") + " -c plan_cache_mode=force_generic_plan").Trim();
        // Dead peers (failover, network partition) are noticed by TCP keepalive instead of hanging until timeout.
        if (cs.KeepAlive == 0)
            cs.KeepAlive = 30;
        // Error details can contain row values (task contexts); they stay out of exception messages.
        cs.IncludeErrorDetail = false;
        builder.Name = "tasker:" + options.ApplicationName;
        return builder.Build();
    }

    /// <summary>Whether the user's own connection string sets a keyword (Npgsql's builder reports every known keyword).</summary>
    private static bool Mentions(string connectionString, params string[] keywords)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return keywords.Any(given.ContainsKey);
    }
}
