using System.Text.Json;

namespace Tasker.Core.Events;

/// <summary>
/// One lifecycle event. The catalog of names and which fields each carries is in docs/events.md.
/// Fields that do not apply to an event are null.
/// </summary>
public sealed class TaskerEvent
{
    /// <summary>Process-wide, strictly increasing; events of one task are published in order.</summary>
    public long Sequence { get; internal set; }
    public required string Name { get; init; }
    public DateTimeOffset Timestamp { get; init; }
    public Guid? TaskUuid { get; init; }
    public string? TaskName { get; init; }
    public string? Namespace { get; init; }
    public Guid? StepUuid { get; init; }
    public string? StepName { get; init; }
    public string? FromState { get; init; }
    public string? ToState { get; init; }
    public int? Attempt { get; set; }
    public double? DurationMs { get; set; }
    public string? Reason { get; init; }
    public string? Actor { get; init; }
    public StepError? Error { get; set; }
    /// <summary>Event-specific payload (for example the outcome of <c>workflow.task_evaluated</c>).</summary>
    public IReadOnlyDictionary<string, JsonElement>? Data { get; set; }
}
