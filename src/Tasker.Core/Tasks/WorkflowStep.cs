using System.Text.Json;

namespace Tasker.Core;

/// <summary>
/// One step of one task: its fixed definition (copied from the template when the task is created, so a task is
/// self-contained even if the template changes) and its mutable execution state. Mutated only by the engine,
/// under the task's exclusive lock.
/// </summary>
public sealed class WorkflowStep
{
    public required Guid Uuid { get; init; }
    public required int Index { get; init; }
    public required string Name { get; init; }
    public required string Handler { get; init; }
    public JsonElement? Initialization { get; init; }
    public required bool Retryable { get; init; }
    public required int MaxAttempts { get; init; }
    public double? BackoffBaseSeconds { get; init; }
    public double? MaxBackoffSeconds { get; init; }
    public int? TimeoutSeconds { get; init; }

    public StepState State { get; internal set; }
    public int Attempts { get; internal set; }
    public JsonElement? Result { get; internal set; }
    public JsonElement? Metadata { get; internal set; }
    public StepError? LastError { get; internal set; }
    public DateTimeOffset? NextRetryAt { get; internal set; }
    public string? ClaimToken { get; internal set; }
    public DateTimeOffset? LeaseExpiresAt { get; internal set; }
    public string? ClaimedBy { get; internal set; }
    public DateTimeOffset? StartedAt { get; internal set; }
    public DateTimeOffset? FinishedAt { get; internal set; }
}
