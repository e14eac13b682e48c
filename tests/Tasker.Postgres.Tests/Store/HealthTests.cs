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
