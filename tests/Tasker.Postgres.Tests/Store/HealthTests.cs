using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

public sealed class HealthTests : PostgresTest
{
    [PostgresFact]
    public async Task Health_counts_tasks_and_steps_by_state_and_reports_stale_work()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(PgWorkflows.Mixed);
        var done = await CreateAsync(engine, PgWorkflows.Mixed);
        while ((await engine.ClaimStepsAsync(done)).Claims is { Count: > 0 } claims)
            foreach (var c in claims)
                await engine.CompleteStepAsync(done, c.StepUuid, c.ClaimToken, JsonValues.EmptyObject);
        Clock.Advance(TimeSpan.FromMinutes(1));
        var stuck = await CreateAsync(engine, PgWorkflows.Mixed);
        await engine.ClaimStepsAsync(stuck, new ClaimOptions(Lease: TimeSpan.FromSeconds(10)));
        Clock.Advance(TimeSpan.FromSeconds(11));

        var health = await engine.GetHealthAsync();

        Assert.True(health.Healthy);
        var stats = health.Stats!;
        Assert.Equal(("postgres", 1L, 1L, 0L), (stats.Store, stats.TasksByState["complete"], stats.TasksByState["in_progress"], stats.TasksByState["error"]));
        Assert.Equal((1L, 6L), (stats.StepsByState["in_progress"], stats.StepsByState["pending"]));
        Assert.Equal(Clock.GetUtcNow().AddSeconds(-11), stats.OldestUnfinishedTaskCreatedAt);
        Assert.Equal(1, health.ExpiredLeases);
        Assert.Equal(30, stats.PoolSize);
    }

    [PostgresFact]
    public async Task Health_counts_ready_steps_by_handler_expired_leases_and_due_retries()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(PgWorkflows.Mixed);
        var ready = await CreateAsync(engine, PgWorkflows.Mixed);
        var init = (await engine.ClaimStepsAsync(ready)).Claims.Single();
        await engine.CompleteStepAsync(ready, init.StepUuid, init.ClaimToken, JsonValues.EmptyObject); // left and right ready
        await CreateAsync(engine, PgWorkflows.Mixed); // its init ready
        var leased = await CreateAsync(engine, PgWorkflows.Mixed);
        await engine.ClaimStepsAsync(leased, new ClaimOptions(Lease: TimeSpan.FromSeconds(10)));
        var retried = await CreateAsync(engine, PgWorkflows.Mixed);
        var failing = (await engine.ClaimStepsAsync(retried)).Claims.Single();
        await engine.FailStepAsync(retried, failing.StepUuid, failing.ClaimToken, new StepFailure("try again"));
        Clock.Advance(TimeSpan.FromMinutes(1)); // the lease expired, the retry is due

        var health = await engine.GetHealthAsync();

        Assert.Equal((1, 1), (health.ExpiredLeases, health.RetriesDue));
        Assert.Equal(new Dictionary<string, long> { ["init_handler"] = 2, ["left_handler"] = 1, ["right_handler"] = 1 },
            health.ReadyStepsByHandler.OrderBy(p => p.Key).ToDictionary());
    }

    [Fact]
    public async Task An_unreachable_database_is_reported_unhealthy_without_secrets()
    {
        await using var engine = new TaskerEngine(new PostgresStore(new PostgresStoreOptions
        {
            ConnectionString = "postgres://tasker:hunter2-secret@127.0.0.1:1/nowhere", MaxRetries = 0,
        }));
        var health = await engine.GetHealthAsync();
        Assert.False(health.Healthy);
        Assert.DoesNotContain("hunter2", health.Error, StringComparison.Ordinal);
        Assert.True(health.Memory is { HeapSizeBytes: > 0 }, "the process's memory is reported even when the store is down");
    }
}
