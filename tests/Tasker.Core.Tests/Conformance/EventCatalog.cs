using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace Tasker.Core.Tests.Conformance;

/// <summary>
/// tests/conformance/events.json, the machine-readable docs/events.md: which fields every event carries. Every
/// runner (C#, C, the bindings) checks the events it pulls against it.
/// </summary>
internal static class EventCatalog
{
    private static readonly JsonElement Catalog = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "conformance", "events.json"))).RootElement;

    public static IEnumerable<string> Names => Catalog.GetProperty("events").EnumerateObject().Select(p => p.Name);

    public static IEnumerable<string> CoveredByFixtures => Catalog.GetProperty("events").EnumerateObject()
        .Where(p => !p.Value.TryGetProperty("fixture_coverage", out var c) || c.GetBoolean())
        .Select(p => p.Name);

    public static void AssertConforms(JsonObject e)
    {
        var name = (string)e["name"]!;
        Assert.True(Catalog.GetProperty("events").TryGetProperty(name, out var entry), $"{name} is not in the catalog");
        foreach (var field in Catalog.GetProperty("common").EnumerateArray().Concat(entry.GetProperty("fields").EnumerateArray()))
            Assert.True(e[field.GetString()!] is not null, $"{name}: {field} is null");
        if (entry.TryGetProperty("data", out var keys))
            foreach (var key in keys.EnumerateArray())
                Assert.True(e["data"]?[key.GetString()!] is not null, $"{name}: data.{key} is missing");
        if (e["error"] is JsonObject error)
            foreach (var field in Catalog.GetProperty("error_fields").EnumerateArray())
                Assert.True(error[field.GetString()!] is not null, $"{name}: error.{field} is null");
    }

    /// <summary>How many task.* and step.* events a fixture expects, by name (the workflow.* ones depend on how often a runner evaluates).</summary>
    public static SortedDictionary<string, int> ExpectedCounts(JsonElement expect) =>
        new(expect.GetProperty("events").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32()), StringComparer.Ordinal);

    public static SortedDictionary<string, int> Count(IEnumerable<string> names) =>
        new(names.Where(Counted).GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count()), StringComparer.Ordinal);

    private static bool Counted(string name) => name.StartsWith("task.", StringComparison.Ordinal) || name.StartsWith("step.", StringComparison.Ordinal);
}
