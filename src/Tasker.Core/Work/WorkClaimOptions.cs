namespace Tasker.Core;

/// <summary>
/// A claim across tasks (worker mode): up to <see cref="MaxSteps"/> ready steps whose handlers the caller has, from
/// any task, highest task priority first, then oldest task first (a step due for retry, or whose lease expired, ranks
/// at that time).
/// </summary>
/// <param name="Handlers">The handlers the worker runs; only their steps are claimed. Required and non-empty.</param>
/// <param name="Namespaces">Only tasks of these namespaces; null for every namespace.</param>
/// <param name="Wait">How long to wait for work when none is ready now; null or zero returns at once.</param>
public sealed record WorkClaimOptions(
    IReadOnlySet<string> Handlers,
    int MaxSteps = 16,
    TimeSpan? Lease = null,
    string? WorkerId = null,
    IReadOnlySet<string>? Namespaces = null,
    TimeSpan? Wait = null);

/// <summary>What a store looks for when a worker asks for work: tasks with ready steps of these handlers.</summary>
/// <param name="Affinity">A task with a step claimed less than this long ago is left to its worker
/// (<see cref="TaskerOptions.WorkAffinity"/>), unless it is <paramref name="WorkerId"/>; a store whose tasks one process
/// writes may ignore both.</param>
public sealed record WorkQuery(IReadOnlySet<string> Handlers, IReadOnlySet<string>? Namespaces, int Limit, TimeSpan Affinity, string? WorkerId);
