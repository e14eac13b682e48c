namespace Tasker.Core;

/// <summary>A task a worker's find turned up: it has steps ready for the worker's handlers (a hint, re-checked by the claim).</summary>
public readonly record struct ReadyTask(Guid Uuid, int Priority);
