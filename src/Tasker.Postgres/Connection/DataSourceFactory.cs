using Npgsql;

namespace Tasker.Postgres.Connection;

/// <summary>
/// Builds the process's connection pool. The slim builder keeps NativeAOT output small and reflection-free; only
/// arrays are enabled (the store sends step batches as arrays for <c>unnest</c>). JSON travels as text.
/// </summary>
internal static class DataSourceFactory
{
    /// <summary>
    /// Connections of <see cref="PostgresStoreOptions.MaxPoolSize"/> set apart for work claims
    /// (<see cref="Work.WorkQueue"/>) in a pool of 32 or more; in a smaller one claims share the one pool. Why apart:
    /// Npgsql hands out idle connections first in, first out, so in one pool every statement runs on every connection in
    /// turn, and each connection's backend plans it for itself and runs it with cold caches. The work find is the
    /// store's costliest statement to plan (about 10 ms, against 2 to 20 ms to run), and a worker process runs one claim
    /// at a time: on connections of their own, claims are planned on two backends a process instead of on every one,
    /// and do not wait behind the process's other calls for a connection. Why only in big pools: measured there (two
    /// workers of 64 slots, pools of 68: twice the steps a second on the 1-step template); with 8 slots and pools of 12
    /// and 20 the 7-step DAG ran about 15 % slower with them, unexplained so far (docs/performance.md, session 29).
    /// </summary>
    public static int ClaimConnections(int maxPoolSize) => maxPoolSize >= 32 ? 2 : 0;

    /// <summary>The pool of everything but work claims: <see cref="PostgresStoreOptions.MaxPoolSize"/> less <see cref="ClaimConnections"/>.</summary>
    public static NpgsqlDataSource Create(PostgresStoreOptions options)
    {
        var max = options.MaxPoolSize - ClaimConnections(options.MaxPoolSize);
        return Create(options, max, Math.Min(options.MinPoolSize, max));
    }

    /// <summary>The work claims' own pool, or null when they share the main one (<see cref="ClaimConnections"/>).</summary>
    public static NpgsqlDataSource? CreateForClaims(PostgresStoreOptions options) =>
        ClaimConnections(options.MaxPoolSize) is > 0 and var claims ? Create(options, claims, 0) : null;

    private static NpgsqlDataSource Create(PostgresStoreOptions options, int maxPoolSize, int minPoolSize)
    {
        var connectionString = PostgresConnectionString.Normalize(options.ConnectionString);
        var builder = new NpgsqlSlimDataSourceBuilder(connectionString);
        builder.EnableArrays();
        var cs = builder.ConnectionStringBuilder;
        cs.MaxPoolSize = maxPoolSize;
        cs.MinPoolSize = minPoolSize;
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
