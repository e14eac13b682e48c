namespace Tasker.Core;

/// <summary>What a store's claim across tasks (<see cref="Storage.IStore.ClaimReadyTasksAsync{T}"/>) did.</summary>
/// <param name="Results">The change's results for the tasks it ran on, in order of work.</param>
/// <param name="PassedSome">Candidates were passed over because another caller held or changed them at that moment:
/// steps of the worker's handlers may still be ready there once it lets go.</param>
/// <param name="BusyTasks">Tasks with ready steps that the store did not hold because a worker is running another step
/// of them, in order of work: claim them one by one (each such claim takes turns with those workers' reports).</param>
public sealed record ClaimedTasks<T>(IReadOnlyList<T> Results, bool PassedSome, IReadOnlyList<Guid> BusyTasks);
