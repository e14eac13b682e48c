namespace Tasker.Core.Storage;

/// <summary>Counts a store reports for health checks and dashboards.</summary>
/// <param name="TasksByState">Task counts keyed by wire state name (every state present, zeros included).</param>
/// <param name="StepsByState">Step counts of unfinished tasks keyed by wire state name.</param>
/// <param name="OldestUnfinishedTaskCreatedAt">Creation time of the oldest task not yet finished: how far behind the system is.</param>
/// <param name="PoolInUse">Connections in use (PostgreSQL); null for stores without a pool.</param>
/// <param name="PoolSize">Configured maximum pool size; null for stores without a pool.</param>
public sealed record StoreStats(
    string Store,
    IReadOnlyDictionary<string, long> TasksByState,
    IReadOnlyDictionary<string, long> StepsByState,
    DateTimeOffset? OldestUnfinishedTaskCreatedAt,
    int? PoolInUse = null,
    int? PoolSize = null);

/// <summary>What <see cref="TaskerEngine.GetHealthAsync"/> reports: suitable for a <c>/health</c> endpoint.</summary>
/// <param name="Healthy">The store answered.</param>
/// <param name="Error">Why the store did not answer (no secrets), when it did not.</param>
public sealed record EngineHealth(bool Healthy, StoreStats? Stats, int ExpiredLeases, int RetriesDue, string? Error)
{
    /// <summary>The process's managed heap when the health was taken (reported whether or not the store answered).</summary>
    public Telemetry.ManagedMemory? Memory { get; init; }

    /// <summary>
    /// Ready steps nobody has claimed yet, by the handler they wait for: a handler no running worker has shows here
    /// (a rolling deploy, a language without workers) long before it shows as stale work.
    /// </summary>
    public IReadOnlyDictionary<string, long> ReadyStepsByHandler { get; init; } = new Dictionary<string, long>();
}
