namespace Tasker.Core;

/// <summary>What a store's claim across tasks (<see cref="Storage.IStore.ClaimReadyTasksAsync"/>) did besides running the change.</summary>
/// <param name="PassedSome">Candidates were passed over because another caller held or changed them at that moment:
/// steps of the worker's handlers may still be ready there once it lets go.</param>
/// <param name="BusyTasks">Tasks with ready steps that the store did not hold because a worker is running another step
/// of them, in order of work: claim them one by one (each such claim takes turns with those workers' reports).</param>
/// <param name="NotPersisted">Tasks the change ran on whose change could not be persisted (none, unless a store's hold
/// failed): their claims did not happen.</param>
/// <param name="HeldBackUntil">Ready work was left to the worker running the task's other steps (work affinity) until
/// then: look again at that time rather than at the next poll.</param>
/// <param name="HeadersCompleted">The store replaced the headers of the tasks it changed after the change ran (PostgreSQL
/// claims a task from an announcement that leaves out its context and request fields, and its write returns them):
/// claims made by the change take the task's context and tags from the header as it is now.</param>
/// <remarks>Not generic on purpose: NativeAOT would build a generic result type of an interface's generic method at run
/// time, through its type loader.</remarks>
public sealed record WorkFound(bool PassedSome, IReadOnlyList<Guid> BusyTasks, IReadOnlyCollection<Guid> NotPersisted,
    DateTimeOffset? HeldBackUntil = null, bool HeadersCompleted = false);
