using System.Text.Json;
using Tasker.Core.Graph;

namespace Tasker.Postgres.Tasks;

/// <summary>The fixed part of a step, copied from its template when the task was created.</summary>
internal sealed record StepDefinition(
    string Name,
    string Handler,
    JsonElement? Initialization,
    bool Retryable,
    int MaxAttempts,
    double? BackoffBaseSeconds,
    double? MaxBackoffSeconds,
    int? TimeoutSeconds);

/// <summary>
/// Everything about a task that never changes after creation: its step definitions and its DAG. Shared by every task
/// with the same <see cref="Key"/> (normally every task of one template version), so loading a task only needs the
/// mutable columns.
/// </summary>
internal sealed record TaskShape(string Key, StepDefinition[] Steps, DagShape Graph);
