using Tasker.Core;
using Tasker.Postgres.Connection;

namespace Tasker.Postgres;

/// <summary>
/// Settings of a <see cref="PostgresStore"/>. Only <see cref="ConnectionString"/> is required; the defaults suit one
/// worker process with a handful of concurrent engine calls (see docs/operations.md for sizing).
/// </summary>
public sealed class PostgresStoreOptions
{
    /// <summary>
    /// An Npgsql connection string (<c>Host=...;Username=...;Database=...</c>) or a URL
    /// (<c>postgres://user:password@host:5432/db?sslmode=require</c>). Never logged; masked in error messages.
    /// </summary>
    public required string ConnectionString { get; init; }

    /// <summary>
    /// The PostgreSQL schema holding the tasker tables; created by the migrations when missing. Null uses the
    /// connection's default <c>search_path</c> (normally <c>public</c>). One schema per environment (or per test run)
    /// keeps several installations apart in one database.
    /// </summary>
    public string? Schema { get; init; }

    /// <summary>
    /// Most connections this process opens. Each in-flight engine call holds one for two round trips, except a task's
    /// change waiting to join the batch write on the wire (group commit), which holds none. From 32 up, two of
    /// them are kept for work claims (worker mode's finds): a claim then does not wait behind other calls for a
    /// connection, and the server plans the find on those two rather than on every connection of the pool.
    /// </summary>
    public int MaxPoolSize { get; init; } = 20;

    /// <summary>Connections kept open when idle.</summary>
    public int MinPoolSize { get; init; }

    /// <summary>The server-side limit of one SQL command (Npgsql <c>Command Timeout</c>).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The limit of one store operation including its retries; exceeded → <c>TIMEOUT</c> error.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Retries of a transient failure (connection reset, failover, serialization failure, deadlock).</summary>
    public int MaxRetries { get; init; } = 6;

    /// <summary>First retry delay; later ones grow exponentially, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The circuit opens when at least this share of calls failed transiently within
    /// <see cref="CircuitSamplingDuration"/> (and at least <see cref="CircuitMinimumThroughput"/> calls were made);
    /// while open, calls fail fast with a <c>DATABASE</c> error instead of piling onto a dead server.
    /// </summary>
    public double CircuitFailureRatio { get; init; } = 0.8;

    public int CircuitMinimumThroughput { get; init; } = 20;

    public TimeSpan CircuitSamplingDuration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan CircuitBreakDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long migrations wait for another process's migration (the advisory lock) before failing.</summary>
    public TimeSpan MigrationLockTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Apply pending migrations when the store is opened with <see cref="PostgresStore.OpenAsync"/>.</summary>
    public bool MigrateOnOpen { get; init; } = true;

    /// <summary>
    /// Task shapes (step definitions and DAG of one template version) cached per process. Edges never change after a
    /// task is created, so the cache saves loading them on every update.
    /// </summary>
    public int ShapeCacheSize { get; init; } = 1024;

    /// <summary>
    /// Tasks whose last committed state this process keeps, so its next change to the same task needs no load (one
    /// statement instead of two). Never a correctness risk: every write is a compare-and-set on the task's row version,
    /// and a stale entry just costs the load it tried to save. 0 disables it.
    /// </summary>
    public int TaskCacheSize { get; init; } = 10_000;

    /// <summary>
    /// Sends <c>plan_cache_mode=force_generic_plan</c> as a startup option, so prepared statements are planned once
    /// per connection instead of on every execution (twice the server CPU per write otherwise). Turn it off behind a
    /// pooler that rejects startup options (PgBouncer without <c>ignore_startup_parameters = options</c>) and set it
    /// on the role instead: <c>ALTER ROLE tasker SET plan_cache_mode = force_generic_plan</c>.
    /// </summary>
    public bool ForceGenericPlans { get; init; } = true;

    /// <summary>
    /// A created task's NOTIFY carries the task, and a worker waiting in this process claims a task announced that way in
    /// one round trip instead of two (a find, then the claim). On by default. PostgreSQL checks no privilege for LISTEN
    /// or NOTIFY, so an announcement carries no request data (no context, tags, initiator, reason, correlation id,
    /// idempotency key, identity or trace context: the claim's write returns those), only the task's uuid, template,
    /// priority, deadline and definition key and its steps' uuids; and it proves nothing: the claim's write checks it
    /// against the task's rows and writes nothing if they differ. Off: creates announce new work with an empty payload
    /// and waiting workers find it, as with a task whose announcement would not fit (8,000 bytes).
    /// </summary>
    public bool AnnounceCreatedTasks { get; init; } = true;

    /// <summary>
    /// Claims wait for their commit to reach disk, like every other write. Off by default: a write that only claims
    /// steps (their attempts start; nothing finishes, no lease expires, no operator acts) commits without waiting for
    /// the WAL flush (<c>synchronous_commit = off</c> for that transaction alone), which a worker waiting for work saves
    /// on every task it starts. Every other write (a report, a failure, a create, an operator's action) still returns
    /// only once durable, and its flush carries the claims committed before it. A claim lost to a database crash in the
    /// moment before the flush is as if its worker's lease had expired at once, except that the attempt does not count:
    /// the step is ready again (another worker may start it while the first still runs it), the first worker's report
    /// and heartbeats are refused as a stale claim (every write checks the row's write stamp as well as its version),
    /// and the step's start events come again. Only from PostgreSQL's default (<c>synchronous_commit = on</c>, no
    /// synchronous standby): a stricter setting is left alone. Turn it on if a handler must never start on a claim the
    /// database could lose.
    /// </summary>
    public bool DurableClaims { get; init; }

    /// <summary>Shown in <c>pg_stat_activity.application_name</c>.</summary>
    public string ApplicationName { get; init; } = "tasker";

    /// <summary>
    /// Retention: when set, the store deletes tasks finished (complete, cancelled, resolved) longer ago than this, with
    /// their steps and audit trail, every <see cref="RetentionInterval"/> in small batches (<see cref="PostgresStore.PruneFinishedAsync"/>).
    /// Tasks in <c>error</c> are kept for operators. Every process may run it: the batches skip rows others hold.
    /// Default: off (finished tasks are kept until <c>tasker prune</c> or your own job deletes them).
    /// </summary>
    public TimeSpan? FinishedTaskRetention { get; init; }

    /// <summary>How often the retention sweep runs when <see cref="FinishedTaskRetention"/> is set.</summary>
    public TimeSpan RetentionInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Where the store logs (category <c>Tasker.Postgres</c>): retried database errors, the circuit breaker opening
    /// and closing, migrations applied. Never connection strings or SQL parameters. Default: nowhere.
    /// </summary>
    public Microsoft.Extensions.Logging.ILoggerFactory LoggerFactory { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
            throw TaskerException.InvalidArgument("connection string is required", "connection_string");
        if (Schema is not null && !PostgresIdentifiers.IsValid(Schema))
            throw TaskerException.InvalidArgument("schema must be 1-63 lower-case letters, digits or '_', starting with a letter or '_'", "schema");
        if (MaxPoolSize is < 1 or > 1000) throw TaskerException.InvalidArgument("max pool size must be between 1 and 1000", "max_pool_size");
        if (MinPoolSize < 0 || MinPoolSize > MaxPoolSize) throw TaskerException.InvalidArgument("min pool size must be between 0 and max pool size", "min_pool_size");
        if (CommandTimeout <= TimeSpan.Zero || OperationTimeout <= TimeSpan.Zero) throw TaskerException.InvalidArgument("timeouts must be positive", "timeout");
        if (MaxRetries is < 0 or > 100) throw TaskerException.InvalidArgument("max retries must be between 0 and 100", "max_retries");
        if (RetryBaseDelay < TimeSpan.Zero) throw TaskerException.InvalidArgument("retry delay must not be negative", "retry_base_delay");
        if (CircuitFailureRatio is <= 0 or > 1) throw TaskerException.InvalidArgument("circuit failure ratio must be in (0, 1]", "circuit_failure_ratio");
        if (CircuitMinimumThroughput < 2) throw TaskerException.InvalidArgument("circuit minimum throughput must be at least 2", "circuit_minimum_throughput");
        if (CircuitSamplingDuration < TimeSpan.FromMilliseconds(500) || CircuitBreakDuration < TimeSpan.FromMilliseconds(500))
            throw TaskerException.InvalidArgument("circuit durations must be at least 500 ms", "circuit");
        if (ShapeCacheSize < 1) throw TaskerException.InvalidArgument("shape cache size must be positive", "shape_cache_size");
        if (TaskCacheSize < 0) throw TaskerException.InvalidArgument("task cache size must not be negative", "task_cache_size");
        if (FinishedTaskRetention is { } keep && keep <= TimeSpan.Zero)
            throw TaskerException.InvalidArgument("finished task retention must be positive", "retention.finished_task_days");
        if (RetentionInterval < TimeSpan.FromSeconds(1)) throw TaskerException.InvalidArgument("retention interval must be at least 1 s", "retention.interval_seconds");
    }
}
