using System.Text.Json;
using Tasker.Core;
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
internal sealed record TaskShape(string Key, StepDefinition[] Steps, DagShape Graph)
{
    /// <summary>Whether <paramref name="task"/>'s steps are defined as these are (field by field; the graph is the caller's).</summary>
    public bool Defines(WorkflowTask task)
    {
        if (task.Steps.Count != Steps.Length) return false;
        foreach (var s in task.Steps)
        {
            var d = Steps[s.Index];
            if (!string.Equals(d.Name, s.Name, StringComparison.Ordinal) || !string.Equals(d.Handler, s.Handler, StringComparison.Ordinal)
                || d.Retryable != s.Retryable || d.MaxAttempts != s.MaxAttempts || d.BackoffBaseSeconds != s.BackoffBaseSeconds
                || d.MaxBackoffSeconds != s.MaxBackoffSeconds || d.TimeoutSeconds != s.TimeoutSeconds)
                return false;
            if (d.Initialization is { } a ? s.Initialization is not { } b || !JsonElement.DeepEquals(a, b) : s.Initialization is not null)
                return false;
        }
        return true;
    }
}
