using System.Globalization;
using System.Text;

namespace Tasker.Postgres.Bench;

/// <summary>The workflows the bench and the multi-process tests run.</summary>
internal static class BenchTemplates
{
    public const string Namespace = "bench";

    /// <summary>
    /// A mixed DAG (fan-out, fan-in, a diamond and a chain: 7 steps). Retries back off quickly so the
    /// failing-then-retrying steps of the multi-process test finish in well under a second.
    /// </summary>
    public static string Mixed(string ns = Namespace) => Yaml(ns, "mixed",
        ("init", []), ("left", ["init"]), ("right", ["init"]), ("validate", ["left", "right"]),
        ("transform", ["left"]), ("analyze", ["right"]), ("finalize", ["validate", "transform", "analyze"]));

    /// <summary>
    /// One step with handler <c>noop</c>: a task that is exactly one job, to compare like for like with a job queue.
    /// </summary>
    public static string Single(string ns = Namespace) => Yaml(ns, "single", ("work", []));

    /// <summary>
    /// Another definition of <see cref="Single"/>'s work (<c>find-scale --definitions</c>): the same handler, a step
    /// that differs (its attempts), so its tasks get a <c>definition_key</c> of their own, as a re-registered template's do.
    /// </summary>
    public static string SingleVariant(int variant) => Yaml(Namespace, $"single_{variant}", 3 + variant, ("work", []));

    /// <summary>
    /// One step whose handler (<c>foreign_handler</c>) no bench worker has: work waiting for another worker.
    /// </summary>
    public static string Foreign(string ns = Namespace) => Yaml(ns, "foreign", ("foreign", []));

    /// <summary>The handlers of <see cref="Mixed"/> and <see cref="Single"/>: what a bench worker runs.</summary>
    public static readonly IReadOnlySet<string> Handlers = new HashSet<string>(StringComparer.Ordinal)
    {
        "init_handler", "left_handler", "right_handler", "validate_handler", "transform_handler", "analyze_handler",
        "finalize_handler", "noop",
    };

    /// <summary>
    /// A layered DAG of <paramref name="steps"/> steps for the readiness comparison: layers of 50 steps, each step
    /// depending on two steps of the layer before.
    /// </summary>
    public static string Layered(int steps)
    {
        const int width = 50;
        var list = new List<(string, string[])>(steps);
        for (var i = 0; i < steps; i++)
        {
            var layer = i / width;
            var deps = layer == 0 ? [] : new[] { Name(((layer - 1) * width) + (i % width)), Name(((layer - 1) * width) + ((i + 7) % width)) }.Distinct().ToArray();
            list.Add((Name(i), deps));
        }
        return Yaml(Namespace, $"layered_{steps}", [.. list]);

        static string Name(int i) => "s" + i.ToString("D5", CultureInfo.InvariantCulture);
    }

    private static string Yaml(string ns, string name, params (string Step, string[] Deps)[] steps) => Yaml(ns, name, 3, steps);

    private static string Yaml(string ns, string name, int maxAttempts, params (string Step, string[] Deps)[] steps)
    {
        var text = new StringBuilder();
        text.Append("name: ").Append(name).Append("\nnamespace_name: ").Append(ns).Append("\nversion: 1.0.0\nsteps:\n");
        foreach (var (step, deps) in steps)
        {
            text.Append("  - name: ").Append(step).Append('\n');
            text.Append("    handler: { callable: ").Append(step == "work" ? "noop" : step + "_handler").Append(" }\n");
            if (deps.Length > 0) text.Append("    dependencies: [").AppendJoin(", ", deps).Append("]\n");
            text.Append("    retry: { retryable: true, max_attempts: ").Append(maxAttempts)
                .Append(", backoff_base_seconds: 0.05, max_backoff_seconds: 0.2 }\n");
        }
        return text.ToString();
    }
}
