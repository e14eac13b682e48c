namespace Tasker.Postgres;

/// <summary>A snapshot of a store's counters since it was opened.</summary>
/// <param name="Statements">SQL statements sent (each command of a batch counts; there are no separate BEGIN/COMMIT on the fast path).</param>
/// <param name="RoundTrips">Network round trips to the server.</param>
/// <param name="Updates">Task updates committed (claims, completions, failures, evaluations, operator actions).</param>
/// <param name="Conflicts">Optimistic writes that lost to a concurrent writer and were re-run under the row lock.</param>
/// <param name="LockedUpdates">Updates that ran under <c>SELECT ... FOR UPDATE</c> after a conflict.</param>
/// <param name="Retries">Transient failures retried by the resilience pipeline.</param>
/// <param name="StepsExecuted">Step attempts whose outcome was recorded (moves out of <c>in_progress</c>).</param>
/// <param name="UnknownCommitsRecovered">Writes (a task's, or a work claim's of several tasks) whose commit reply was lost and which a retry found committed.</param>
/// <param name="WriteStatements">
/// Write-back statements sent, each one commit carrying one or more task writes (<paramref name="Updates"/>): changes of
/// different tasks arriving together in a process share one (group commit).
/// </param>
/// <param name="AnnouncedClaims">
/// Tasks a waiting worker claimed in one round trip from the announcement of their creation, without a find.
/// </param>
/// <param name="UnflushedClaimWrites">
/// Write-back statements of claims only, committed without waiting for the WAL flush
/// (<see cref="PostgresStoreOptions.DurableClaims"/> off, the default).
/// </param>
public sealed record PostgresStoreStatistics(
    long Statements,
    long RoundTrips,
    long Updates,
    long Conflicts,
    long LockedUpdates,
    long Retries,
    long StepsExecuted,
    long UnknownCommitsRecovered,
    long WriteStatements = 0,
    long AnnouncedClaims = 0,
    long UnflushedClaimWrites = 0)
{
    /// <summary>Statements per executed step attempt; NaN before any step ran.</summary>
    public double StatementsPerExecutedStep => StepsExecuted == 0 ? double.NaN : (double)Statements / StepsExecuted;

    public double RoundTripsPerExecutedStep => StepsExecuted == 0 ? double.NaN : (double)RoundTrips / StepsExecuted;

    /// <summary>The difference of two snapshots: the cost of what ran in between.</summary>
    public PostgresStoreStatistics Since(PostgresStoreStatistics earlier) => new(
        Statements - earlier.Statements, RoundTrips - earlier.RoundTrips, Updates - earlier.Updates, Conflicts - earlier.Conflicts,
        LockedUpdates - earlier.LockedUpdates, Retries - earlier.Retries, StepsExecuted - earlier.StepsExecuted,
        UnknownCommitsRecovered - earlier.UnknownCommitsRecovered, WriteStatements - earlier.WriteStatements,
        AnnouncedClaims - earlier.AnnouncedClaims, UnflushedClaimWrites - earlier.UnflushedClaimWrites);
}
