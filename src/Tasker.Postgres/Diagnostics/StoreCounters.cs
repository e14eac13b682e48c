namespace Tasker.Postgres;

/// <summary>
/// Cheap process-wide counters of what the store sent to PostgreSQL, so hosts and the benchmark can check the cost
/// per executed step (target: at most 3 statements) without a profiler.
/// </summary>
internal sealed class StoreCounters
{
    private long _statements;
    private long _roundTrips;
    private long _updates;
    private long _conflicts;
    private long _lockedUpdates;
    private long _retries;
    private long _stepsExecuted;
    private long _unknownCommitsRecovered;
    private long _writeStatements;
    private long _announcedClaims;
    private long _unflushedClaimWrites;

    /// <summary>One network round trip carrying <paramref name="statements"/> SQL statements.</summary>
    public void RoundTrip(int statements)
    {
        Interlocked.Add(ref _statements, statements);
        Interlocked.Increment(ref _roundTrips);
    }

    /// <summary>Lost compare-and-sets so far (worker mode reads it as a sign of contention between processes).</summary>
    public long Conflicts => Interlocked.Read(ref _conflicts);

    public void Update() => Interlocked.Increment(ref _updates);
    public void Conflict() => Interlocked.Increment(ref _conflicts);
    public void LockedUpdate() => Interlocked.Increment(ref _lockedUpdates);
    public void Retry() => Interlocked.Increment(ref _retries);
    public void StepsExecuted(int count) => Interlocked.Add(ref _stepsExecuted, count);
    public void UnknownCommitRecovered() => Interlocked.Increment(ref _unknownCommitsRecovered);
    public void WriteStatement() => Interlocked.Increment(ref _writeStatements);
    public void AnnouncedClaim(int tasks) => Interlocked.Add(ref _announcedClaims, tasks);
    public void UnflushedClaimWrite() => Interlocked.Increment(ref _unflushedClaimWrites);

    public PostgresStoreStatistics Snapshot() => new(
        Interlocked.Read(ref _statements), Interlocked.Read(ref _roundTrips), Interlocked.Read(ref _updates),
        Interlocked.Read(ref _conflicts), Interlocked.Read(ref _lockedUpdates), Interlocked.Read(ref _retries),
        Interlocked.Read(ref _stepsExecuted), Interlocked.Read(ref _unknownCommitsRecovered), Interlocked.Read(ref _writeStatements),
        Interlocked.Read(ref _announcedClaims), Interlocked.Read(ref _unflushedClaimWrites));
}
