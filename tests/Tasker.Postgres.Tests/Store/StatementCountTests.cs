using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>The cost model of the store, pinned: what one change costs in statements and round trips.</summary>
public sealed class StatementCountTests : PostgresTest
{
    [PostgresFact]
    public async Task A_first_change_loads_and_writes_and_a_following_change_only_writes()
    {
        var (creator, _) = await EngineAsync();
        await creator.RegisterTemplateAsync(PgWorkflows.Mixed);
        var warmup = await CreateAsync(creator, PgWorkflows.Mixed);
        var task = await CreateAsync(creator, PgWorkflows.Mixed);
        var (engine, store) = await EngineAsync(); // a process that never saw these tasks
        await engine.ClaimStepsAsync(warmup); // learns the template version's shape (two small queries, once)

        var before = store.Statistics;
        var claim = (await engine.ClaimStepsAsync(task)).Claims.Single();
        var first = store.Statistics.Since(before);
        Assert.Equal((2L, 2L), (first.Statements, first.RoundTrips)); // load + write

        before = store.Statistics;
        await engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);
        var complete = store.Statistics.Since(before);
        Assert.Equal((1L, 1L, 1L), (complete.Statements, complete.RoundTrips, complete.StepsExecuted)); // write only
    }

    [PostgresFact]
    public async Task Creating_a_task_from_a_template_looked_up_before_is_its_insert_alone_and_answers_what_a_read_shows()
    {
        var (engine, store) = await EngineAsync();
        await engine.RegisterTemplateAsync(PgWorkflows.Mixed);
        await CreateAsync(engine, PgWorkflows.Mixed);

        var before = store.Statistics;
        var created = await engine.CreateTaskAsync(new TaskRequest
        {
            Namespace = "pg", Name = TemplateName(PgWorkflows.Mixed), Initiator = "test",
            // jsonb reorders keys and normalizes numbers; sub-microsecond ticks and an offset do not survive a timestamptz
            Context = JsonValues.Parse("{\"order\": 7, \"amount\": 1e2}", "context"),
            RequestedAt = new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.FromHours(2)).AddTicks(1234567),
        });
        var cost = store.Statistics.Since(before);

        // No lookup (the template as this process found it; the insert checks it is still current, TemplateCacheTests)
        // and no read back: the answer is the task as PostgreSQL keeps it.
        Assert.Equal(1L, cost.Statements);
        var read = await engine.GetTaskAsync(created.Task.TaskUuid);
        static object Fields(TaskHeader h) => (h.Uuid, h.Namespace, h.Name, h.Version, h.State, string.Join(",", h.Tags), h.Priority,
            h.Initiator, h.Identity, h.CreatedAt, h.UpdatedAt, h.RequestedAt, h.RequestedAt?.Offset, h.FinishedAt, h.Context.GetRawText());
        Assert.Equal(Fields(read.Header), Fields(created.Task.Header));
        Assert.Equal(read.Steps.Select(s => (s.StepUuid, s.Name, s.State, s.Readiness.Ready)),
            created.Task.Steps.Select(s => (s.StepUuid, s.Name, s.State, s.Readiness.Ready)));
    }

    [PostgresFact]
    public async Task A_work_claim_of_several_tasks_is_two_round_trips_its_find_and_its_write()
    {
        var (engine, store) = await EngineAsync();
        var one = PgWorkflows.Yaml("one", ("only", []));
        await engine.RegisterTemplateAsync(one);
        for (var i = 0; i < 3; i++) await CreateAsync(engine, one);
        var handlers = new HashSet<string>(StringComparer.Ordinal) { "only_handler" };

        var before = store.Statistics;
        var claims = await engine.ClaimWorkAsync(new WorkClaimOptions(handlers, 8, TimeSpan.FromSeconds(30), "w", null, TimeSpan.Zero));
        var cost = store.Statistics.Since(before);

        Assert.Equal(3, claims.Count);
        // BEGIN with the find, which locks and returns each task's row; the claims of all of them are one write, sent
        // with the COMMIT.
        Assert.Equal((2L, 1L), (cost.Statements, cost.WriteStatements));
    }

    [PostgresTheory]
    [InlineData(true, 2.0)]
    [InlineData(false, 3.5)]
    public async Task A_workflow_run_costs_at_most_the_target_statements_per_executed_step(bool taskCache, double limit)
    {
        var (engine, store) = await EngineAsync(configure: o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString, Schema = o.Schema, TaskCacheSize = taskCache ? 10_000 : 0,
        });
        await engine.RegisterTemplateAsync(PgWorkflows.Mixed);
        var tasks = new List<Guid>();
        for (var i = 0; i < 10; i++) tasks.Add(await CreateAsync(engine, PgWorkflows.Mixed));

        var before = store.Statistics;
        foreach (var task in tasks)
        {
            while (true)
            {
                var claim = await engine.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 16));
                if (claim.Claims.Count == 0) break;
                foreach (var c in claim.Claims)
                    await engine.CompleteStepAsync(task, c.StepUuid, c.ClaimToken, JsonValues.EmptyObject);
            }
        }
        var run = store.Statistics.Since(before);

        Assert.Equal(70, run.StepsExecuted);
        Assert.True(run.StatementsPerExecutedStep <= limit, $"{run.StatementsPerExecutedStep:N2} statements per step (limit {limit})");
    }

    [PostgresFact]
    public async Task A_batch_of_reports_of_one_task_and_its_next_claim_is_one_write()
    {
        var (engine, store) = await EngineAsync();
        await engine.RegisterTemplateAsync(PgWorkflows.Mixed);
        var task = await CreateAsync(engine, PgWorkflows.Mixed);
        var next = new ClaimOptions(MaxSteps: 16);
        var first = (await engine.ClaimStepsAsync(task, next)).Claims.Single();
        var wave = (await engine.CompleteAndClaimAsync(task, first.StepUuid, first.ClaimToken, JsonValues.Null, null, null, next)).Claims;
        Assert.Equal(2, wave.Count);

        var before = store.Statistics;
        var answer = await engine.ReportStepsAsync(task, wave.Select(c => new StepReport(c.StepUuid, c.ClaimToken, JsonValues.EmptyObject)).ToList(), next);
        var cost = store.Statistics.Since(before);

        Assert.All(answer.Refused, Assert.Null);
        Assert.NotEmpty(answer.Next.Claims);
        Assert.Equal((1L, 1L, 2L), (cost.Statements, cost.RoundTrips, cost.StepsExecuted)); // one write, one commit
    }
}
