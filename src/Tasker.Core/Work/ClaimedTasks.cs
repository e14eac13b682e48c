namespace Tasker.Core;

/// <summary>What a store's claim across tasks (<see cref="Storage.IStore.ClaimReadyTasksAsync{T}"/>) persisted.</summary>
/// <param name="Results">The change's results for the tasks whose change was persisted (or changed nothing), in order of work.</param>
/// <param name="PassedSome">Candidates were passed over because another caller held or changed them at that moment:
/// steps of the worker's handlers may still be ready there once it lets go.</param>
public sealed record ClaimedTasks<T>(IReadOnlyList<T> Results, bool PassedSome);
