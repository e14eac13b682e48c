using Tasker.Core.Tests.Support;
using Xunit;

namespace Tasker.Core.Tests.Engine;

public sealed class HealthTests
{
    [Fact]
    public async Task Health_counts_tasks_and_steps_by_state_and_reports_stale_work()
    {
        var clock = new ManualClock();
        await using var engine = TaskerEngine.InMemory(new TaskerOptions { Time = clock });
        await engine.RegisterTemplateAsync(Workflows.Linear);
        var done = (await engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "linear" })).Task.TaskUuid;
        await new Runner(engine, clock).RunAsync(done);
        clock.Advance(TimeSpan.FromMinutes(1));
        var stuck = (await engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "linear" })).Task.TaskUuid;
        await engine.ClaimStepsAsync(stuck, new ClaimOptions(Lease: TimeSpan.FromSeconds(10)));
        clock.Advance(TimeSpan.FromSeconds(11));

        var health = await engine.GetHealthAsync();

        Assert.True(health.Healthy);
        Assert.Equal(("memory", 1L, 1L), (health.Stats!.Store, health.Stats.TasksByState["complete"], health.Stats.TasksByState["in_progress"]));
        Assert.Equal((1L, 3L), (health.Stats.StepsByState["in_progress"], health.Stats.StepsByState["pending"]));
        Assert.Equal(clock.GetUtcNow().AddSeconds(-11), health.Stats.OldestUnfinishedTaskCreatedAt);
        Assert.Equal(1, health.ExpiredLeases);
    }
}
