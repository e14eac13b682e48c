using System.Text.Json;
using Tasker.Cli.Tests.Support;
using Xunit;

namespace Tasker.Cli.Tests;

/// <summary>Every command, as a table for people and as --json for scripts, against a real PostgreSQL.</summary>
public sealed class CommandTests : IAsyncLifetime
{
    private readonly SeededStore _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();
    public Task DisposeAsync() => _db.DisposeAsync();

    private static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task Tasks_lists_newest_first_and_filters_by_state_name_and_age()
    {
        var (code, output, _) = await _db.RunAsync("tasks");
        Assert.Equal(0, code);
        Assert.Contains("STATE", output);
        Assert.Contains($"{_db.Failed}", output);
        Assert.Contains("orders/fulfil", output);

        var json = Json((await _db.RunAsync("tasks", "--json")).Out);
        Assert.Equal([_db.Stuck, _db.Done, _db.Failed], json.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("task_uuid").GetGuid()));

        var failed = Json((await _db.RunAsync("tasks", "--state", "error", "--namespace", "orders", "--name", "fulfil", "--json")).Out);
        Assert.Equal(_db.Failed, failed.GetProperty("tasks").EnumerateArray().Single().GetProperty("task_uuid").GetGuid());
        Assert.Empty(Json((await _db.RunAsync("tasks", "--newer-than", "1h", "--json")).Out).GetProperty("tasks").EnumerateArray());
        Assert.Equal(3, Json((await _db.RunAsync("tasks", "--older-than", "1h", "--json")).Out).GetProperty("tasks").GetArrayLength());

        var page2 = Json((await _db.RunAsync("tasks", "--limit", "2", "--page", "2", "--json")).Out);
        Assert.Equal(_db.Failed, page2.GetProperty("tasks").EnumerateArray().Single().GetProperty("task_uuid").GetGuid());
        Assert.Contains("No tasks match.", (await _db.RunAsync("tasks", "--state", "cancelled")).Out);
    }

    [Fact]
    public async Task Bad_input_is_a_usage_error_with_exit_code_2()
    {
        var (code, _, error) = await _db.RunAsync("tasks", "--state", "broken");
        Assert.Equal(2, code);
        Assert.Contains("unknown state 'broken'", error);
        Assert.Equal(2, (await _db.RunAsync("show", "not-a-uuid")).Code);
        Assert.Equal(2, (await _db.RunAsync("tasks", "--older-than", "soon")).Code);
        Assert.Equal(2, (await _db.RunAsync("no-such-command")).Code);
        Assert.Equal(2, (await _db.RunAsync("resolve", _db.Failed.ToString(), "charge", "--result", "{oops")).Code);
    }

    [Fact]
    public async Task Show_draws_the_dag_and_says_why_waiting_steps_are_not_running()
    {
        var (code, output, _) = await _db.RunAsync("show", _db.Failed.ToString());
        Assert.Equal(0, code);
        Assert.Contains("ERROR", output);
        Assert.Matches(@"✗ charge\s+error\s+← validate", output);
        Assert.Contains("ship: blocked: charge failed", output);
        Assert.Contains(SeededStore.ScriptError, output);
        Assert.Contains("app/payments.rb:12:in `charge'", output); // the backtrace
        Assert.Contains("Audit trail", output);
        Assert.Contains("1/3", output); // attempts

        var json = Json((await _db.RunAsync("show", _db.Failed.ToString(), "--json")).Out);
        Assert.Equal("error", json.GetProperty("state").GetString());
        var steps = json.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal("CardDeclined", steps["charge"].GetProperty("error").GetProperty("error_type").GetString());
        Assert.Equal(2, steps["charge"].GetProperty("error").GetProperty("backtrace").GetArrayLength());
        Assert.StartsWith("blocked: charge failed", steps["ship"].GetProperty("why_not_running").GetString());
        Assert.Equal(JsonValueKind.Null, steps["validate"].GetProperty("why_not_running").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, steps["validate"].GetProperty("finished_at").ValueKind);

        var stuck = Json((await _db.RunAsync("show", _db.Stuck.ToString(), "--json")).Out);
        var validate = stuck.GetProperty("steps").EnumerateArray().First();
        Assert.Contains("waiting for a worker with handler 'ValidateOrder'", validate.GetProperty("why_not_running").GetString());
        Assert.Contains("stale", validate.GetProperty("why_not_running").GetString());

        var missing = await _db.RunAsync("show", Guid.NewGuid().ToString());
        Assert.Equal(1, missing.Code);
        Assert.Contains("not found", missing.Err);
    }

    [Fact]
    public async Task Retry_records_the_actor_and_reason_and_the_task_becomes_pending()
    {
        var (code, output, _) = await _db.RunAsync("retry", _db.Failed.ToString(), "--actor", "alice", "--reason", "card limit raised");
        Assert.Equal(0, code);
        Assert.Contains("is now pending (by alice: card limit raised)", output);
        Assert.Contains("next: 1 step(s) ready", output);

        var json = Json((await _db.RunAsync("show", _db.Failed.ToString(), "--json")).Out);
        Assert.Equal("pending", json.GetProperty("state").GetString());
        Assert.Contains(json.GetProperty("transitions").EnumerateArray(), t =>
            t.GetProperty("actor").GetString() == "alice" && t.GetProperty("reason").GetString() == "card limit raised" && t.GetProperty("to_state").GetString() == "pending");

        var again = Json((await _db.RunAsync("retry", _db.Failed.ToString(), "--json")).Out); // already pending: a no-op
        Assert.Equal("pending", again.GetProperty("task_state").GetString());
        Assert.Equal(Environment.UserName, again.GetProperty("actor").GetString()); // the OS user by default
    }

    [Fact]
    public async Task Cancel_and_resolve_act_and_report()
    {
        var resolved = Json((await _db.RunAsync("resolve", _db.Failed.ToString(), "charge", "--result", """{"charged": "by hand"}""", "--reason", "charged by phone", "--json")).Out);
        Assert.Equal("resolve", resolved.GetProperty("command").GetString());
        Assert.Equal("pending", resolved.GetProperty("task_state").GetString());
        var charge = Json((await _db.RunAsync("show", _db.Failed.ToString(), "--json")).Out).GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "charge");
        Assert.Equal("resolved_manually", charge.GetProperty("state").GetString());
        Assert.Equal("by hand", charge.GetProperty("result").GetProperty("charged").GetString());

        var (code, output, _) = await _db.RunAsync("cancel", _db.Stuck.ToString(), "--actor", "bob");
        Assert.Equal(0, code);
        Assert.Contains("is now cancelled (by bob)", output);
        var cancelled = Json((await _db.RunAsync("cancel", _db.Stuck.ToString(), "--json")).Out);
        Assert.Equal("cancelled", cancelled.GetProperty("task_state").GetString());

        var done = await _db.RunAsync("resolve", _db.Done.ToString(), "ship");
        Assert.Equal(1, done.Code);
        Assert.Contains("invalid state", done.Err);
    }

    [Fact]
    public async Task Stale_lists_the_task_nobody_drove_and_the_handler_its_ready_step_waits_for()
    {
        var (code, output, _) = await _db.RunAsync("stale");
        Assert.Equal(0, code);
        Assert.Contains("Pending tasks nobody drove", output);
        Assert.Contains("ValidateOrder", output);
        Assert.Contains(_db.Stuck.ToString(), output);

        var json = Json((await _db.RunAsync("stale", "--json")).Out);
        Assert.Equal(_db.Stuck, json.GetProperty("undriven_tasks").EnumerateArray().Single().GetProperty("task_uuid").GetGuid());
        var step = json.GetProperty("unclaimed_steps").EnumerateArray().Single();
        Assert.Equal(("validate", "ValidateOrder"), (step.GetProperty("step_name").GetString(), step.GetProperty("handler").GetString()));
        Assert.Equal([_db.Stuck], json.GetProperty("task_uuids").EnumerateArray().Select(e => e.GetGuid()));

        var patient = Json((await _db.RunAsync("stale", "--unclaimed-after", "3h", "--pending-after", "3h", "--json")).Out);
        Assert.Equal(0, patient.GetProperty("task_uuids").GetArrayLength());
        Assert.Contains("Nothing stuck.", (await _db.RunAsync("stale", "--unclaimed-after", "3h", "--pending-after", "3h")).Out);
    }

    [Fact]
    public async Task Stats_counts_the_ready_steps_nobody_holds_by_the_handler_they_wait_for()
    {
        var (code, output, _) = await _db.RunAsync("stats");

        Assert.Equal(0, code);
        Assert.Matches(@"ValidateOrder\s+1\b", output); // the stuck order's first step
        var json = Json((await _db.RunAsync("stats", "--json")).Out);
        var ready = Assert.Single(json.GetProperty("ready_steps_by_handler").EnumerateObject());
        Assert.Equal(("ValidateOrder", 1L), (ready.Name, ready.Value.GetInt64()));
        Assert.Equal((0, 0), (json.GetProperty("expired_leases").GetInt64(), json.GetProperty("retries_due").GetInt64()));
    }

    [Fact]
    public async Task Stats_reports_the_dead_task_rows_awaiting_vacuum_and_the_last_vacuum()
    {
        // Each task row updated once leaves one dead version; the statistics system hears of it when the backend goes idle.
        await _db.ExecuteAsync("UPDATE tasker_tasks SET updated_at = updated_at", "SELECT pg_stat_force_next_flush()");

        var tasks = Table(Json((await _db.RunAsync("stats", "--json")).Out), "tasker_tasks");
        Assert.True(tasks.GetProperty("dead_rows").GetInt64() >= 3, tasks.ToString());
        Assert.True(tasks.GetProperty("autovacuum").GetBoolean());
        Assert.True(tasks.GetProperty("autovacuum_at_dead_rows").GetInt64() >= 50); // the server's default threshold, at least
        Assert.Equal(JsonValueKind.Null, tasks.GetProperty("last_vacuum_at").ValueKind);
        Assert.Matches(@"tasker_tasks\s+\d+\s+[1-9]\d*\s+\d+ dead\s+never", (await _db.RunAsync("stats")).Out);

        await _db.ExecuteAsync("VACUUM tasker_tasks");

        var vacuumed = Table(Json((await _db.RunAsync("stats", "--json")).Out), "tasker_tasks");
        Assert.True(DateTimeOffset.UtcNow - vacuumed.GetProperty("last_vacuum_at").GetDateTimeOffset() < TimeSpan.FromMinutes(5));
        Assert.False(vacuumed.GetProperty("last_vacuum_automatic").GetBoolean());
        Assert.Matches(@"tasker_tasks\s+.*ago \(manual\)", (await _db.RunAsync("stats")).Out);
    }

    [Fact]
    public async Task Stats_warns_when_autovacuum_lets_dead_task_rows_pile_up()
    {
        Assert.DoesNotContain("warning", (await _db.RunAsync("stats")).Out); // the server's defaults on a small table

        await _db.ExecuteAsync("ALTER TABLE tasker_tasks SET (autovacuum_vacuum_threshold = 100000, autovacuum_vacuum_scale_factor = 0)");
        var waits = await _db.RunAsync("stats");
        Assert.Contains("warning: autovacuum waits for 100,000 dead rows in tasker_tasks", waits.Out);
        var tasks = Table(Json((await _db.RunAsync("stats", "--json")).Out), "tasker_tasks");
        Assert.Equal((100_000, true), (tasks.GetProperty("autovacuum_at_dead_rows").GetInt64(), tasks.GetProperty("dead_rows_pile_up").GetBoolean()));

        await _db.ExecuteAsync("ALTER TABLE tasker_tasks RESET (autovacuum_vacuum_threshold, autovacuum_vacuum_scale_factor)",
            "ALTER TABLE tasker_tasks SET (autovacuum_enabled = false)");
        Assert.Contains("warning: autovacuum is off for tasker_tasks", (await _db.RunAsync("stats")).Out);

        // The steps table is read by key, not walked: no warning for it.
        await _db.ExecuteAsync("ALTER TABLE tasker_tasks RESET (autovacuum_enabled)", "ALTER TABLE tasker_workflow_steps SET (autovacuum_enabled = false)");
        var steps = await _db.RunAsync("stats");
        Assert.Matches(@"tasker_workflow_steps\s+\d+\s+\d+\s+off", steps.Out);
        Assert.DoesNotContain("warning", steps.Out);
    }

    private static JsonElement Table(JsonElement stats, string name) =>
        stats.GetProperty("tables").EnumerateArray().Single(t => t.GetProperty("table").GetString() == name);

    [Fact]
    public async Task Stats_templates_and_migrate()
    {
        var (code, output, _) = await _db.RunAsync("stats");
        Assert.Equal(0, code);
        Assert.Matches(@"error\s+1", output);
        Assert.Contains("stuck tasks: 1", output);
        var stats = Json((await _db.RunAsync("stats", "--json")).Out);
        Assert.Equal(1, stats.GetProperty("tasks_by_state").GetProperty("complete").GetInt64());
        Assert.Equal(1, stats.GetProperty("tasks_by_state").GetProperty("pending").GetInt64());

        var templates = await _db.RunAsync("templates");
        Assert.Matches(@"orders\s+fulfil\s+1\.2\.0\s+4", templates.Out);
        var json = Json((await _db.RunAsync("templates", "--json")).Out).GetProperty("templates").EnumerateArray().Single();
        Assert.Equal(("fulfil", 4, "Fulfil an order"), (json.GetProperty("name").GetString(), json.GetProperty("step_count").GetInt32(), json.GetProperty("description").GetString()));

        var migrate = await _db.RunAsync("migrate");
        Assert.Equal(0, migrate.Code);
        Assert.Contains("is up to date", migrate.Out);
        Assert.True(Json((await _db.RunAsync("migrate", "--json")).Out).GetProperty("migrated").GetBoolean());
    }

    [Fact]
    public async Task Prune_deletes_finished_tasks_and_their_trail_but_keeps_failed_ones_by_default()
    {
        Assert.Contains("deleted 0 task(s)", (await _db.RunAsync("prune", "--finished-before", "3h")).Out);
        var json = Json((await _db.RunAsync("prune", "--finished-before", "1h", "--batch-size", "1", "--json")).Out);
        Assert.Equal(1, json.GetProperty("deleted").GetInt64());
        Assert.Equal(1, (await _db.RunAsync("show", _db.Done.ToString())).Code);
        Assert.Equal(0, (await _db.RunAsync("show", _db.Failed.ToString())).Code);

        Assert.Contains("deleted 1 task(s)", (await _db.RunAsync("prune", "--finished-before", "1h", "--include-errors")).Out);
        Assert.Equal(2, (await _db.RunAsync("prune")).Code); // --finished-before is required
    }

    [Fact]
    public async Task Connection_failures_are_one_line_without_the_password_or_a_stack_trace()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CliApp.RunAsync(["tasks", "--database-url", "postgres://ops:s3cr3t-pw@127.0.0.1:1/nowhere"],
            new Output.Terminal(output, error, color: false));
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", error.ToString());
        Assert.DoesNotContain("s3cr3t-pw", error.ToString());
        Assert.DoesNotContain("   at ", error.ToString());

        var saved = Environment.GetEnvironmentVariable("TASKER_DATABASE_URL");
        Environment.SetEnvironmentVariable("TASKER_DATABASE_URL", null);
        try
        {
            var missing = new StringWriter();
            Assert.Equal(2, await CliApp.RunAsync(["tasks"], new Output.Terminal(new StringWriter(), missing, color: false)));
            Assert.Contains("no database: pass --database-url or set TASKER_DATABASE_URL", missing.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable("TASKER_DATABASE_URL", saved);
        }
    }

    [Fact]
    public async Task Colour_only_when_asked_for()
    {
        var output = new StringWriter();
        await CliApp.RunAsync(["tasks", "--database-url", _db.Url, "--schema", _db.Schema], new Output.Terminal(output, new StringWriter(), color: true));
        Assert.Contains("\u001b[31merror", output.ToString()); // the failed task's state in red
        Assert.DoesNotContain("\u001b[", (await _db.RunAsync("tasks")).Out);
    }
}
