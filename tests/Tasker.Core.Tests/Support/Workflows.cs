namespace Tasker.Core.Tests.Support;

/// <summary>The workflow shapes the specification names, as core-format YAML templates.</summary>
public static class Workflows
{
    public static string Yaml(string name, params (string Step, string[] Deps)[] steps) => Yaml(name, "", steps);

    public static string Yaml(string name, string extra, params (string Step, string[] Deps)[] steps)
    {
        var lines = new List<string> { $"name: {name}", "namespace_name: tests", "version: 1.0.0", extra, "steps:" };
        foreach (var (step, deps) in steps)
        {
            lines.Add($"  - name: {step}");
            lines.Add($"    handler: {{ callable: {step}_handler }}");
            if (deps.Length > 0) lines.Add($"    dependencies: [{string.Join(", ", deps)}]");
            lines.Add("    retry: { retryable: true, max_attempts: 3, backoff_base_seconds: 1 }");
        }
        return string.Join('\n', lines.Where(l => l.Length > 0)) + "\n";
    }

    public static readonly string Linear = Yaml("linear", ("a", []), ("b", ["a"]), ("c", ["b"]), ("d", ["c"]));

    public static readonly string Diamond = Yaml("diamond", ("start", []), ("b", ["start"]), ("c", ["start"]), ("end", ["b", "c"]));

    public static readonly string Tree = Yaml("tree",
        ("root", []), ("branch_1", ["root"]), ("branch_2", ["root"]),
        ("leaf_1a", ["branch_1"]), ("leaf_1b", ["branch_1"]), ("leaf_2a", ["branch_2"]), ("leaf_2b", ["branch_2"]),
        ("converge", ["leaf_1a", "leaf_1b", "leaf_2a", "leaf_2b"]));

    public static readonly string Mixed = Yaml("mixed",
        ("init", []), ("left", ["init"]), ("right", ["init"]), ("validate", ["left", "right"]),
        ("transform", ["left"]), ("analyze", ["right"]), ("finalize", ["validate", "transform", "analyze"]));

    public static readonly string OrderFulfillment = Yaml("order_fulfillment",
        ("validate_order", []), ("reserve_inventory", ["validate_order"]),
        ("process_payment", ["validate_order", "reserve_inventory"]),
        ("ship_order", ["validate_order", "reserve_inventory", "process_payment"]));

    public static readonly string Pipeline = Yaml("pipeline",
        ("extract_a", []), ("extract_b", []), ("extract_c", []),
        ("transform_a", ["extract_a"]), ("transform_b", ["extract_b"]), ("transform_c", ["extract_c"]),
        ("aggregate", ["transform_a", "transform_b", "transform_c"]), ("insights", ["aggregate"]));

    public static IEnumerable<object[]> AllShapes() =>
    [
        ["linear", Linear, 4], ["diamond", Diamond, 4], ["tree", Tree, 8], ["mixed", Mixed, 7],
        ["order_fulfillment", OrderFulfillment, 4], ["pipeline", Pipeline, 8],
    ];
}
