namespace Tasker.Core;

/// <summary>
/// What a store hands a work claim (<see cref="Storage.IStore.ClaimReadyTasksAsync{T}"/>): tasks with ready steps of the
/// worker's handlers, highest priority first, then oldest first, each held exclusively while the claim's change runs.
/// </summary>
/// <param name="Tasks">The tasks, current and held: no one else changes them until the change is persisted.</param>
/// <param name="OthersHeldSome">Candidates were passed over because another caller held them at that moment (or changed
/// them a moment before): steps of this worker's handlers may still be ready there once it lets go.</param>
public sealed record HeldTasks(IReadOnlyList<WorkflowTask> Tasks, bool OthersHeldSome);
