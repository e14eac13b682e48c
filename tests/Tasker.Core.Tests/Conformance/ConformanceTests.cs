using System.Text.Json;
using System.Text.Json.Nodes;
using Tasker.Core.Events;
using Xunit;

namespace Tasker.Core.Tests.Conformance;

/// <summary>Runs the shared, language-neutral fixtures in tests/conformance directly against the C# engine.</summary>
public sealed class ConformanceTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "conformance");

    public static IEnumerable<object[]> Fixtures() =>
        Directory.GetFiles(Path.Combine(Root, "fixtures"), "*.json").Order().Select(f => new object[] { Path.GetFileNameWithoutExtension(f) });

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task Fixture_reaches_its_expected_outcome(string name)
    {
        using var fixture = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Root, "fixtures", name + ".json")));
        var f = fixture.RootElement;
        var clock = new ManualClock();
        var config = f.GetProperty("engine_config");
        var jitter = config.TryGetProperty("backoff", out var b) && b.TryGetProperty("jitter", out var j) ? j.GetDouble() : 0.1;
        await using var engine = TaskerEngine.InMemory(new TaskerOptions { Time = clock, Jitter = jitter });
        using var events = engine.Events.Subscribe("*");
        var template = await engine.RegisterTemplateAsync(await File.ReadAllTextAsync(Path.Combine(Root, "templates", f.GetProperty("template").GetString()!)));
        var task = (await engine.CreateTaskAsync(new TaskRequest
        {
            Namespace = template.Namespace, Name = template.Name, Context = f.GetProperty("context").Clone(),
        })).Task.TaskUuid;

        var delays = new List<double>();
        var scripts = f.GetProperty("handlers");
        var outcome = await engine.EvaluateAsync(task);
        for (var round = 0; round < 100 && outcome.Action is RecommendedAction.Execute or RecommendedAction.Reenqueue; round++)
        {
            if (outcome.Action == RecommendedAction.Reenqueue)
            {
                delays.Add(outcome.DelaySeconds!.Value);
                clock.Advance(TimeSpan.FromSeconds(outcome.DelaySeconds.Value));
                outcome = await engine.EvaluateAsync(task);
                continue;
            }
            var claim = await engine.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 1000));
            outcome = claim.Outcome;
            foreach (var step in claim.Claims)
            {
                var behaviour = Behaviour(scripts, step.StepName, step.Attempt);
                outcome = behaviour.TryGetProperty("fail", out var fail)
                    ? await engine.FailStepAsync(task, step.StepUuid, step.ClaimToken, new StepFailure(
                        fail.GetProperty("message").GetString()!, "Scripted",
                        fail.TryGetProperty("permanent", out var p) && p.GetBoolean(),
                        fail.TryGetProperty("retry_after_seconds", out var r) ? r.GetDouble() : null))
                    : await engine.CompleteStepAsync(task, step.StepUuid, step.ClaimToken, behaviour.GetProperty("return").Clone());
            }
        }

        var expect = f.GetProperty("expect");
        var view = await engine.GetTaskAsync(task);
        Assert.Equal(expect.GetProperty("task_state").GetString(), view.State.ToWire());
        foreach (var step in expect.GetProperty("steps").EnumerateObject())
        {
            var actual = view.Step(step.Name);
            Assert.Equal((step.Name, step.Value.GetProperty("state").GetString(), step.Value.GetProperty("attempts").GetInt32()),
                (step.Name, actual.State.ToWire(), actual.Attempts));
            if (step.Value.TryGetProperty("result", out var result))
                Assert.True(JsonElement.DeepEquals(result, actual.Result!.Value), $"{step.Name}: {actual.Result}");
        }
        Assert.Equal(expect.GetProperty("reenqueue_delays").EnumerateArray().Select(d => d.GetDouble()), delays);

        var pulled = events.Pull(int.MaxValue);
        Assert.Equal(0, events.Dropped);
        foreach (var e in pulled)
            EventCatalog.AssertConforms(ToWire(e));
        Assert.Equal(EventCatalog.ExpectedCounts(expect), EventCatalog.Count(pulled.Select(e => e.Name)));
    }

    /// <summary>The event as the C ABI writes it (snake_case names, every field present).</summary>
    private static JsonObject ToWire(TaskerEvent e) => new()
    {
        ["sequence"] = e.Sequence,
        ["name"] = e.Name,
        ["timestamp"] = e.Timestamp.ToString("O"),
        ["task_uuid"] = e.TaskUuid?.ToString(),
        ["task_name"] = e.TaskName,
        ["namespace"] = e.Namespace,
        ["step_uuid"] = e.StepUuid?.ToString(),
        ["step_name"] = e.StepName,
        ["from_state"] = e.FromState,
        ["to_state"] = e.ToState,
        ["attempt"] = e.Attempt,
        ["duration_ms"] = e.DurationMs,
        ["reason"] = e.Reason,
        ["actor"] = e.Actor,
        ["error"] = e.Error is { } error
            ? new JsonObject { ["message"] = error.Message, ["error_type"] = error.ErrorType, ["permanent"] = error.Permanent, ["attempt"] = error.Attempt, ["at"] = error.At.ToString("O") }
            : null,
        ["data"] = e.Data is { } data ? new JsonObject(data.Select(kv => KeyValuePair.Create(kv.Key, JsonNode.Parse(kv.Value.GetRawText())))) : null,
    };

    [Fact]
    public void The_event_catalog_file_lists_exactly_the_engine_events()
    {
        Assert.Equal(EventNames.All.Order(), EventCatalog.Names.Order());
    }

    [Fact]
    public void Together_the_fixtures_emit_every_event_the_catalog_expects_of_them()
    {
        var emitted = Fixtures().Select(f => (string)f[0])
            .SelectMany(name => JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "fixtures", name + ".json")))
                .RootElement.GetProperty("expect").GetProperty("events").EnumerateObject().Select(p => p.Name))
            .ToHashSet();
        var missing = EventCatalog.CoveredByFixtures.Where(n => !n.StartsWith("workflow.", StringComparison.Ordinal) && !emitted.Contains(n));
        Assert.Empty(missing);
    }

    private static JsonElement Behaviour(JsonElement scripts, string step, int attempt)
    {
        if (!scripts.TryGetProperty(step, out var script))
            return JsonDocument.Parse("{\"return\": {\"ok\": true}}").RootElement;
        var count = script.GetArrayLength();
        return script[Math.Min(attempt, count) - 1];
    }
}
