namespace Tasker.Core.Storage;

/// <summary>
/// How much work is waiting, counted rather than listed (<see cref="IStore.CountWorkAsync"/>): what a health check
/// reports. Exact from the memory and PostgreSQL stores; a store that keeps the interface's default counts at most
/// 10,000 of each.
/// </summary>
/// <param name="ReadyStepsByHandler">Steps ready now that nobody holds, by the handler they wait for.</param>
/// <param name="ExpiredLeases">Steps in progress whose lease has expired.</param>
/// <param name="RetriesDue">Tasks waiting for a retry that is due.</param>
public sealed record WorkCounts(IReadOnlyDictionary<string, long> ReadyStepsByHandler, long ExpiredLeases, long RetriesDue);
