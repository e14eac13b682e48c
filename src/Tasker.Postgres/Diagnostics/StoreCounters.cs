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

    /// <summary>One network round trip carrying <paramref name="statements"/> SQL statements.</summary>
    public void RoundTrip(int statements)
    {
        Interlocked.Add(ref _statements, statements);
        Interlocked.Increment(ref _roundTrips);
    }

    public void Update() => Interlocked.Increment(ref _updates);
    public void Conflict() => Interlocked.Increment(ref _conflicts);
    public void LockedUpdate() => Interlocked.Increment(ref _lockedUpdates);
    public void Retry() => Interlocked.Increment(ref _retries);
    public void StepsExecuted(int count) => Interlocked.Add(ref _stepsExecuted, count);
    public void UnknownCommitRecovered() => Interlocked.Increment(ref _unknownCommitsRecovered);

    public PostgresStoreStatistics Snapshot() => new(
        Interlocked.Read(ref _statements), Interlocked.Read(ref _roundTrips), Interlocked.Read(ref _updates),
        Interlocked.Read(ref _conflicts), Interlocked.Read(ref _lockedUpdates), Interlocked.Read(ref _retries),
        Interlocked.Read(ref _stepsExecuted), Interlocked.Read(ref _unknownCommitsRecovered));
}

/// <summary>A snapshot of a store's counters since it was opened.</summary>
/// <param name="Statements">SQL statements sent (each command of a batch counts; there are no separate BEGIN/COMMIT on the fast path).</param>
/// <param name="RoundTrips">Network round trips to the server.</param>
/// <param name="Updates">Task updates committed (claims, completions, failures, evaluations, operator actions).</param>
/// <param name="Conflicts">Optimistic writes that lost to a concurrent writer and were re-run under the row lock.</param>
/// <param name="LockedUpdates">Updates that ran under <c>SELECT ... FOR UPDATE</c> after a conflict.</param>
/// <param name="Retries">Transient failures retried by the resilience pipeline.</param>
/// <param name="StepsExecuted">Step attempts whose outcome was recorded (moves out of <c>in_progress</c>).</param>
/// <param name="UnknownCommitsRecovered">Writes whose commit reply was lost and which a retry found committed.</param>
public sealed record PostgresStoreStatistics(
    long Statements,
    long RoundTrips,
    long Updates,
    long Conflicts,
    long LockedUpdates,
    long Retries,
    long StepsExecuted,
    long UnknownCommitsRecovered)
{
    /// <summary>Statements per executed step attempt; NaN before any step ran.</summary>
    public double StatementsPerExecutedStep => StepsExecuted == 0 ? double.NaN : (double)Statements / StepsExecuted;

    public double RoundTripsPerExecutedStep => StepsExecuted == 0 ? double.NaN : (double)RoundTrips / StepsExecuted;

    /// <summary>The difference of two snapshots: the cost of what ran in between.</summary>
    public PostgresStoreStatistics Since(PostgresStoreStatistics earlier) => new(
        Statements - earlier.Statements, RoundTrips - earlier.RoundTrips, Updates - earlier.Updates, Conflicts - earlier.Conflicts,
        LockedUpdates - earlier.LockedUpdates, Retries - earlier.Retries, StepsExecuted - earlier.StepsExecuted,
        UnknownCommitsRecovered - earlier.UnknownCommitsRecovered);
}
