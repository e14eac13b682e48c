using System.Runtime.InteropServices;
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
    /// <summary>
    /// Whether <paramref name="task"/>'s steps are defined as these are, compared as <see cref="Tasks.DefinitionKey"/>
    /// hashes them (initialization as written, numbers by their bits), so that equal means the same key. The graph is the
    /// caller's to compare.
    /// </summary>
    public bool Defines(WorkflowTask task)
    {
        if (task.Steps.Count != Steps.Length) return false;
        foreach (var s in task.Steps)
        {
            var d = Steps[s.Index];
            if (!string.Equals(d.Name, s.Name, StringComparison.Ordinal) || !string.Equals(d.Handler, s.Handler, StringComparison.Ordinal)
                || d.Retryable != s.Retryable || d.MaxAttempts != s.MaxAttempts || !SameBits(d.BackoffBaseSeconds, s.BackoffBaseSeconds)
                || !SameBits(d.MaxBackoffSeconds, s.MaxBackoffSeconds) || d.TimeoutSeconds != s.TimeoutSeconds
                || !SameText(d.Initialization, s.Initialization))
                return false;
        }
        return true;
    }

    private static bool SameBits(double? a, double? b) =>
        a.HasValue == b.HasValue && (!a.HasValue || BitConverter.DoubleToInt64Bits(a.Value) == BitConverter.DoubleToInt64Bits(b!.Value));

    private static bool SameText(JsonElement? a, JsonElement? b)
    {
        if (a is not { } x || b is not { } y) return a.HasValue == b.HasValue;
        return JsonMarshal.GetRawUtf8Value(x).SequenceEqual(JsonMarshal.GetRawUtf8Value(y));
    }
}
