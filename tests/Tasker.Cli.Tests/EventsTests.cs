using System.Text.Json;
using Tasker.Cli.Tests.Support;
using Tasker.Core;
using Tasker.Postgres;
using Xunit;

namespace Tasker.Cli.Tests;

/// <summary><c>tasker events</c> and <c>events --follow</c> against a real PostgreSQL, as a table and as JSON lines.</summary>
public sealed class EventsTests : IAsyncLifetime
{
    private readonly SeededStore _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();
    public Task DisposeAsync() => _db.DisposeAsync();

    private static JsonElement[] Lines(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone())];

    [Fact]
    public async Task Events_prints_the_audit_trail_oldest_first_as_a_table_and_as_one_json_object_per_line()
    {
        var (code, output, _) = await _db.RunAsync("events");
        Assert.Equal(0, code);
        Assert.Contains("TRANSITION", output);
        Assert.Matches($@"{_db.Failed}\s+orders/fulfil\s+charge\s+in_progress → error\s+permanent failure", output);
        Assert.Matches($@"{_db.Stuck}\s+orders/fulfil\s+\(task\)\s+∅ → pending\s+created\s+shop", output);

        var (jsonCode, json, _) = await _db.RunAsync("events", "--json", "--task", _db.Failed.ToString());
        Assert.Equal(0, jsonCode);
        var lines = Lines(json);
        Assert.All(lines, e => Assert.Equal(_db.Failed, e.GetProperty("task_uuid").GetGuid()));
        Assert.Equal("pending", lines[0].GetProperty("to_state").GetString()); // the task's creation comes first
        Assert.Equal(JsonValueKind.Null, lines[0].GetProperty("step_name").ValueKind);
        var charge = lines.Single(e => e.GetProperty("step_name").GetString() == "charge" && e.GetProperty("to_state").GetString() == "error");
        Assert.Equal(1, charge.GetProperty("attempt").GetInt32());
        Assert.Equal("orders", charge.GetProperty("namespace").GetString());
        var ordinals = lines.Select(e => e.GetProperty("ordinal").GetInt32()).ToArray();
        Assert.Equal(ordinals.Order(), ordinals); // one task's history in its own order

        Assert.Contains("No transitions.", (await _db.RunAsync("events", "--namespace", "nowhere")).Out);
        Assert.Equal("", (await _db.RunAsync("events", "--json", "--namespace", "nowhere")).Out);
        Assert.Equal(2, (await _db.RunAsync("events", "--task", "nope")).Code);
        Assert.Equal(2, (await _db.RunAsync("events", "--since", "soon")).Code);
    }

    [Fact]
    public async Task Events_over_more_than_one_round_trip_prints_every_transition_once()
    {
        await using var store = await PostgresStore.OpenAsync(new PostgresStoreOptions { ConnectionString = _db.Url, Schema = _db.Schema });
        var engine = new TaskerEngine(store);
        for (var i = 0; i < 60; i++) // 11 transitions each: more than one round trip of the feed (500)
        {
            var task = (await engine.CreateTaskAsync(new TaskRequest { Namespace = "orders", Name = "fulfil" })).Task.TaskUuid;
            while ((await engine.GetTaskAsync(task)).State != TaskState.Complete)
                foreach (var claim in (await engine.ClaimStepsAsync(task)).Claims)
                    await engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);
        }

        var (code, output, _) = await _db.RunAsync("events", "--json", "--since", "3h");

        Assert.Equal(0, code);
        var printed = Lines(output).Select(e => e.GetProperty("transition_uuid").GetGuid()).ToArray();
        await using var count = store.DataSource.CreateCommand(
            "SELECT (SELECT count(*) FROM tasker_task_transitions) + (SELECT count(*) FROM tasker_workflow_step_transitions)");
        var stored = (long)(await count.ExecuteScalarAsync())!;
        Assert.True(stored > 600, $"only {stored} transitions stored");
        Assert.Equal(stored, printed.Length);
        Assert.Equal(printed.Length, printed.Distinct().Count());
    }

    [Fact]
    public async Task Follow_prints_transitions_as_they_happen_until_cancelled()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var table = Follow(stop.Token, "events", "--follow", "--namespace", "orders");
        var json = Follow(stop.Token, "events", "-f", "--json", "--task", _db.Failed.ToString());
        await Task.Delay(TimeSpan.FromSeconds(1.2)); // a few polls: what happened before --follow started is not printed
        Assert.Equal("", table.Output());
        Assert.Equal("", json.Output());

        Assert.Equal(0, (await _db.RunAsync("retry", _db.Failed.ToString(), "--actor", "alice", "--reason", "limit raised")).Code);
        Assert.Equal(0, (await _db.RunAsync("cancel", _db.Stuck.ToString(), "--actor", "bob")).Code);

        await Until(() => table.Output().Contains($"{_db.Stuck}") && Lines(json.Output()).Length > 0);
        await Task.Delay(TimeSpan.FromSeconds(1.2)); // a few more polls: nothing is printed twice
        stop.Cancel();
        Assert.Equal(0, await table.Code);
        Assert.Equal(0, await json.Code);

        var printed = table.Output();
        Assert.Matches($@"{_db.Failed}\s+orders/fulfil\s+\(task\)\s+error → pending\s+limit raised\s+alice", printed);
        Assert.Matches($@"{_db.Failed}\s+orders/fulfil\s+charge\s+error → pending", printed);
        Assert.Matches($@"{_db.Stuck}\s+orders/fulfil\s+\(task\)\s+pending → cancelled\s+.*bob", printed);
        Assert.Single(printed.Split('\n'), line => line.Contains("error → pending") && line.Contains("(task)"));

        var lines = Lines(json.Output());
        Assert.All(lines, e => Assert.Equal(_db.Failed, e.GetProperty("task_uuid").GetGuid()));
        var retried = Assert.Single(lines, e => e.GetProperty("step_name").ValueKind == JsonValueKind.Null);
        Assert.Equal(("error", "pending", "alice"), (retried.GetProperty("from_state").GetString(), retried.GetProperty("to_state").GetString(),
            retried.GetProperty("actor").GetString()));
        Assert.Equal(lines.Length, lines.Select(e => e.GetProperty("transition_uuid").GetGuid()).Distinct().Count());
    }

    private sealed record Running(Task<int> Code, Func<string> Output);

    private Running Follow(CancellationToken token, params string[] args)
    {
        var output = new StringWriter();
        var synchronized = TextWriter.Synchronized(output);
        var code = Task.Run(() => CliApp.RunAsync([.. args, "--database-url", _db.Url, "--schema", _db.Schema],
            new Output.Terminal(synchronized, TextWriter.Synchronized(new StringWriter()), color: false), token));
        return new Running(code, () => { lock (synchronized) return output.ToString(); });
    }

    private static async Task Until(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++) await Task.Delay(100);
        Assert.True(condition(), "the followed transitions did not appear within 10 s");
    }
}
