using System.Text.Json;

namespace Tasker.Core;

/// <summary>A request to create a task from a registered template.</summary>
public sealed record TaskRequest
{
    public required string Name { get; init; }
    public required string Namespace { get; init; }
    /// <summary>Null selects the newest registered version.</summary>
    public string? Version { get; init; }
    public JsonElement? Context { get; init; }
    public string? Initiator { get; init; }
    public string? SourceSystem { get; init; }
    public string? Reason { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public int Priority { get; init; }
    /// <summary>Creating a second task with the same key (per namespace and name) returns the first one.</summary>
    public string? IdempotencyKey { get; init; }
    public string? CorrelationId { get; init; }
    /// <summary>
    /// The host's W3C <c>traceparent</c>: the task's spans (every step attempt, the finished task) join this trace,
    /// whichever process runs them later.
    /// </summary>
    public string? TraceParent { get; init; }

    /// <summary>
    /// Rails Tasker's <c>bypass_steps</c>: steps the template marks <c>skippable</c> that this task should not run.
    /// Each is completed at creation without running (no result, metadata <c>{"bypassed": true}</c>, reason
    /// "bypassed (bypass_steps)" in the audit trail), so the steps after it run and the task can complete. Naming an
    /// unknown step, or one that is not skippable, is an error.
    /// </summary>
    public IReadOnlyList<string> BypassSteps { get; init; } = [];

    /// <summary>When the host asked for the task (Rails Tasker's <c>requested_at</c>); defaults to the creation time.</summary>
    public DateTimeOffset? RequestedAt { get; init; }
}
