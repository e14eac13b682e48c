using Npgsql;
using Tasker.Cli;
using Tasker.Cli.Output;
using Tasker.Core;
using Tasker.Postgres;
using Xunit;

namespace Tasker.Cli.Tests.Support;

/// <summary>
/// A fresh schema on the test PostgreSQL (TASKER_TEST_DATABASE_URL, as ./build.sh test provides) holding three tasks
/// made two hours ago through the engine: one failed (a step's error and the context contain &lt;script&gt;), one
/// complete, one created and never driven. Dropped afterwards. Also runs the CLI in-process against it.
/// </summary>
public sealed class SeededStore : IAsyncLifetime
{
    public const string Template = """
        name: fulfil
        namespace_name: orders
        version: 1.2.0
        description: Fulfil an order
        steps:
          - name: validate
            handler: { callable: ValidateOrder }
          - name: charge
            handler: { callable: ChargeCard }
            dependencies: [validate]
            retry: { retryable: true, max_attempts: 3 }
          - name: email
            handler: { callable: SendEmail }
            dependencies: [validate]
          - name: ship
            handler: { callable: ShipOrder }
            dependencies: [charge]
        """;

    public const string ScriptError = "card declined <script>alert('step')</script>";
    public const string ScriptContext = """{"order_id": 42, "note": "<script>alert('ctx')</script>"}""";

    public string Url { get; private set; } = "";
    public string Schema { get; } = "tasker_cli_" + Guid.NewGuid().ToString("N")[..12];
    public Guid Failed { get; private set; }
    public Guid Done { get; private set; }
    public Guid Stuck { get; private set; }

    public async Task InitializeAsync()
    {
        var url = Environment.GetEnvironmentVariable("TASKER_TEST_DATABASE_URL");
        if (string.IsNullOrWhiteSpace(url))
            throw new InvalidOperationException("The CLI tests need PostgreSQL: export TASKER_TEST_DATABASE_URL (scripts/pg-test-cluster.sh start), as ./build.sh test does.");
        Url = url;
        var clock = new ManualClock(DateTimeOffset.UtcNow.AddHours(-2));
        var store = await PostgresStore.OpenAsync(new PostgresStoreOptions { ConnectionString = url, Schema = Schema, ApplicationName = "tasker-cli-tests" });
        await using var engine = new TaskerEngine(store, new TaskerOptions { Time = clock });
        await engine.RegisterTemplateAsync(Template);

        Failed = await CreateAsync(engine, ScriptContext);
        await CompleteNextAsync(engine, Failed, clock); // validate
        var claims = (await engine.ClaimStepsAsync(Failed)).Claims; // charge and email
        clock.Advance(TimeSpan.FromMilliseconds(350));
        foreach (var claim in claims)
            if (claim.StepName == "charge")
                await engine.FailStepAsync(Failed, claim.StepUuid, claim.ClaimToken, new StepFailure(ScriptError, "CardDeclined", Permanent: true,
                    Backtrace: ["app/payments.rb:12:in `charge'", "app/steps/charge_card.rb:7:in `process'"]));
            else
                await engine.CompleteStepAsync(Failed, claim.StepUuid, claim.ClaimToken, Parse("""{"sent": true}"""));

        Done = await CreateAsync(engine, """{"order_id": 7}""");
        while ((await engine.GetTaskAsync(Done)).State != TaskState.Complete)
            await CompleteNextAsync(engine, Done, clock);

        Stuck = await CreateAsync(engine, """{"order_id": 99}""");
    }

    private static async Task<Guid> CreateAsync(TaskerEngine engine, string context) =>
        (await engine.CreateTaskAsync(new TaskRequest { Namespace = "orders", Name = "fulfil", Context = Parse(context), Initiator = "shop" })).Task.TaskUuid;

    private static async Task CompleteNextAsync(TaskerEngine engine, Guid task, ManualClock clock)
    {
        foreach (var claim in (await engine.ClaimStepsAsync(task)).Claims)
        {
            clock.Advance(TimeSpan.FromMilliseconds(120));
            await engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, Parse("""{"ok": true}"""));
        }
    }

    private static System.Text.Json.JsonElement Parse(string json) => JsonValues.Parse(json, "test");

    /// <summary>Runs <c>tasker args... --database-url URL --schema S</c> in-process; never coloured (not a terminal).</summary>
    public async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CliApp.RunAsync([.. args, "--database-url", Url, "--schema", Schema], new Terminal(output, error, color: false));
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Runs SQL statements, one after another, on a connection of their own in this schema.</summary>
    public async Task ExecuteAsync(params string[] statements)
    {
        await using var connection = new NpgsqlConnection(PostgresConnectionString.Normalize(Url) + $";Search Path={Schema}");
        await connection.OpenAsync();
        foreach (var sql in statements)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (string.IsNullOrEmpty(Url)) return;
        await using var connection = new NpgsqlConnection(PostgresConnectionString.Normalize(Url));
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
