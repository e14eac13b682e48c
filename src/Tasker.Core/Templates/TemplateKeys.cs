using System.Text.Json;

namespace Tasker.Core.Templates;

/// <summary>
/// Every key a template may carry, per nesting level and format. A key outside its level's set is an error that
/// names it and the closest known key: a misspelled <c>dependecies:</c> must not silently give a step no
/// dependencies (it would then run in parallel with the step it should wait for).
/// </summary>
internal static class TemplateKeys
{
    /// <summary>Top level, both formats (the Rails Tasker descriptive keys are kept and shown with the template).</summary>
    public static readonly string[] Root =
    [
        "name", "namespace_name", "namespace", "version", "description", "input_schema", "schema", "fail_fast",
        "identity_strategy", "steps", "step_templates", "environments", "module_namespace", "task_handler_class",
        "concurrent", "default_dependent_system", "named_steps", "timeout_seconds",
    ];

    public static readonly string[] CoreStep =
        ["name", "description", "handler", "dependencies", "depends_on", "retry", "timeout_seconds", "skippable", "dependent_system"];

    public static readonly string[] CoreHandler = ["callable", "initialization"];

    public static readonly string[] CoreRetry = ["retryable", "max_attempts", "limit", "backoff_base_seconds", "max_backoff_seconds"];

    public static readonly string[] RailsStep =
    [
        "name", "description", "handler_class", "handler_config", "depends_on_step", "depends_on_steps",
        "default_retryable", "default_retry_limit", "skippable", "dependent_system", "timeout_seconds",
    ];

    /// <summary>What one entry of <c>environments:</c> may override.</summary>
    public static readonly string[] Environment = ["step_templates", "steps"];

    /// <summary>Throws for the first key of <paramref name="obj"/> not in <paramref name="known"/>.</summary>
    public static void Check(JsonElement obj, string[] known, string template, string where)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (Array.IndexOf(known, property.Name) >= 0) continue;
            var closest = Closest(property.Name, known);
            var hint = closest is null ? $"known keys: {string.Join(", ", known)}" : $"did you mean `{closest}`?";
            var details = new Dictionary<string, string> { ["field"] = property.Name, ["template"] = template, ["where"] = where };
            if (closest is not null) details["suggestion"] = closest;
            throw new TaskerException(TaskerErrorCode.InvalidArgument,
                $"template '{template}': unknown key `{Shorten(property.Name)}` in {where} ({hint})", details);
        }
    }

    /// <summary>The known key nearest by edit distance, when it is near enough to be a plausible typo.</summary>
    internal static string? Closest(string key, string[] known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var d = Distance(key, candidate);
            if (d < bestDistance) (best, bestDistance) = (candidate, d);
        }
        // A third of the key's length, at least 2: "dependecies" -> "dependencies", but "foo" suggests nothing.
        return bestDistance <= Math.Max(2, key.Length / 3) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        if (a.Length > 64 || b.Length > 64) return int.MaxValue; // no suggestion for absurd keys; keeps this O(64²)
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "...";
}
