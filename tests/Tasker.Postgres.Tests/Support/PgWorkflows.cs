namespace Tasker.Postgres.Tests.Support;

/// <summary>Workflows used by the PostgreSQL-specific tests.</summary>
public static class PgWorkflows
{
    public static string Yaml(string name, params (string Step, string[] Deps)[] steps)
    {
        var lines = new List<string> { $"name: {name}", "namespace_name: pg", "version: 1.0.0", "steps:" };
        foreach (var (step, deps) in steps)
        {
            lines.Add($"  - name: {step}");
            lines.Add($"    handler: {{ callable: {step}_handler }}");
            if (deps.Length > 0) lines.Add($"    dependencies: [{string.Join(", ", deps)}]");
            lines.Add("    retry: { retryable: true, max_attempts: 3, backoff_base_seconds: 1 }");
        }
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>Ten independent steps then one that joins them: lots to claim at once, one finalizing step.</summary>
    public static readonly string Wide = Yaml("wide",
        [.. Enumerable.Range(0, 10).Select(i => ($"s{i}", Array.Empty<string>())), ("join", Enumerable.Range(0, 10).Select(i => $"s{i}").ToArray())]);

    /// <summary>Eight independent steps and nothing else: whoever completes the last one finalizes the task.</summary>
    public static readonly string Flat = Yaml("flat", [.. Enumerable.Range(0, 8).Select(i => ($"f{i}", Array.Empty<string>()))]);

    /// <summary>
    /// Two steps, the first skippable (a create may bypass it: <c>bypass_steps</c>), the second after it; with
    /// <paramref name="dependent"/> false the second does not depend on it, and the template is named "loose".
    /// </summary>
    public static string Skippable(bool dependent = true) => $$"""
        name: {{(dependent ? "skippy" : "loose")}}
        namespace_name: pg
        version: 1.0.0
        steps:
          - name: first
            handler: { callable: first_handler }
            skippable: true
          - name: second
            handler: { callable: second_handler }
        {{(dependent ? "    dependencies: [first]" : "")}}
        """;

    public static readonly string Mixed = Yaml("mixed",
        ("init", []), ("left", ["init"]), ("right", ["init"]), ("validate", ["left", "right"]),
        ("transform", ["left"]), ("analyze", ["right"]), ("finalize", ["validate", "transform", "analyze"]));
}
