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
        var present = f.TryGetProperty("handlers_present", out var h) ? h.EnumerateArray().Select(x => x.GetString()!).ToHashSet() : null;
        var claimOptions = new ClaimOptions(MaxSteps: 1000, Handlers: present);
        var claimCalls = 1;
        var batch = await engine.ClaimStepsAsync(task, claimOptions);
        var outcome = batch.Outcome;
        for (var round = 0; round < 100; round++)
        {
            if (batch.Claims.Count > 0)
            {
                // Report each claim; the last report of the batch asks for the next claims in the same call.
                ClaimResult? next = null;
                for (var n = 0; n < batch.Claims.Count; n++)
                {
                    var step = batch.Claims[n];
                    var claimNext = n == batch.Claims.Count - 1 ? claimOptions : null;
                    var behaviour = Behaviour(scripts, step.StepName, step.Attempt);
                    if (behaviour.TryGetProperty("advance_seconds", out var advance))
                        clock.Advance(TimeSpan.FromSeconds(advance.GetDouble()));
                    if (behaviour.TryGetProperty("heartbeat", out var beat) && beat.GetBoolean())
                    {
                        var lease = await engine.HeartbeatAsync(task, step.StepUuid, step.ClaimToken, TimeSpan.FromSeconds(3600));
                        Assert.True(step.DeadlineAt is null || lease <= step.DeadlineAt, "a heartbeat extended the lease past the deadline");
                    }
                    try
                    {
                        next = await Report(engine, task, step, behaviour, claimNext);
                    }
                    catch (TaskerException e) when (e.Code == TaskerErrorCode.StaleClaim)
                    {
                        next = null; // the attempt's deadline passed: the next claim records its Timeout
                    }
                }
                if (next is not null && (next.Claims.Count > 0 || next.Outcome.Action != RecommendedAction.Execute))
                {
                    (batch, outcome) = (next, next.Outcome);
                    continue;
                }
            }
            else if (outcome.Action == RecommendedAction.Reenqueue && outcome.WaitingForHandlers is { Count: > 0 })
                break; // only workers with other handlers can go on
            else if (outcome.Action == RecommendedAction.Reenqueue)
            {
                delays.Add(outcome.DelaySeconds!.Value);
                clock.Advance(TimeSpan.FromSeconds(outcome.DelaySeconds.Value));
            }
            else if (outcome.Action != RecommendedAction.Execute)
                break;
            claimCalls++;
            batch = await engine.ClaimStepsAsync(task, claimOptions);
            outcome = batch.Outcome;
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
            if (step.Value.TryGetProperty("error_type", out var errorType))
                Assert.Equal((step.Name, errorType.GetString()), (step.Name, actual.Error?.ErrorType));
        }
        Assert.Equal(expect.GetProperty("reenqueue_delays").EnumerateArray().Select(d => d.GetDouble()), delays);
        if (expect.TryGetProperty("waiting_for_handlers", out var waiting))
            Assert.Equal(waiting.EnumerateObject().Select(w => $"{w.Name}: {string.Join(",", w.Value.EnumerateArray().Select(s => s.GetString()))}"),
                outcome.WaitingForHandlers!.Select(w => $"{w.Handler}: {string.Join(",", w.Steps)}"));
        if (expect.TryGetProperty("claim_calls", out var calls))
            Assert.Equal(calls.GetInt32(), claimCalls);

        var pulled = events.Pull(int.MaxValue);
        Assert.Equal(0, events.Dropped);
        foreach (var e in pulled)
            EventCatalog.AssertConforms(ToWire(e));
        if (Environment.GetEnvironmentVariable("DUMP_COUNTS") is { } dump)
            File.WriteAllText(Path.Combine(dump, name + ".json"), string.Join("\n", EventCatalog.Count(pulled.Select(e => e.Name)).Select(kv => $"{kv.Key}={kv.Value}")));
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

    /// <summary>
    /// Completes or fails the claim as scripted. A result the engine refuses (here: nested deeper than 64 levels) is
    /// reported as the step's failure, as every binding does.
    /// </summary>
    private static async Task<ClaimResult> Report(TaskerEngine engine, Guid task, StepClaim step, JsonElement behaviour, ClaimOptions? claimNext)
    {
        if (behaviour.TryGetProperty("fail", out var fail))
            return await engine.FailAndClaimAsync(task, step.StepUuid, step.ClaimToken, new StepFailure(
                fail.GetProperty("message").GetString()!, "Scripted",
                fail.TryGetProperty("permanent", out var p) && p.GetBoolean(),
                fail.TryGetProperty("retry_after_seconds", out var r) ? r.GetDouble() : null), null, claimNext);
        JsonElement result;
        try
        {
            result = behaviour.TryGetProperty("return_nested", out var depth)
                ? JsonValues.Parse(new string('[', depth.GetInt32()) + new string(']', depth.GetInt32()), "result")
                : behaviour.GetProperty("return").Clone();
        }
        catch (TaskerException refused)
        {
            return await engine.FailAndClaimAsync(task, step.StepUuid, step.ClaimToken,
                new StepFailure($"the engine refused the step's result: {refused.Message}", "InvalidResult"), null, claimNext);
        }
        return await engine.CompleteAndClaimAsync(task, step.StepUuid, step.ClaimToken, result, null, null, claimNext);
    }

    private static JsonElement Behaviour(JsonElement scripts, string step, int attempt)
    {
        if (!scripts.TryGetProperty(step, out var script))
            return JsonDocument.Parse("{\"return\": {\"ok\": true}}").RootElement;
        var count = script.GetArrayLength();
        return script[Math.Min(attempt, count) - 1];
    }
}
