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

    [Fact]
    public async Task Health_counts_ready_steps_nobody_claimed_by_the_handler_they_wait_for()
    {
        await using var engine = TaskerEngine.InMemory();
        await engine.RegisterTemplateAsync(Workflows.Diamond);
        var task = (await engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "diamond" })).Task.TaskUuid;
        await engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "diamond" });
        var start = (await engine.ClaimStepsAsync(task, new ClaimOptions(Handlers: new HashSet<string> { "start_handler" }))).Claims.Single();
        await engine.CompleteStepAsync(task, start.StepUuid, start.ClaimToken, JsonValues.Null);

        var health = await engine.GetHealthAsync();

        Assert.Equal(new Dictionary<string, long> { ["start_handler"] = 1, ["b_handler"] = 1, ["c_handler"] = 1 },
            health.ReadyStepsByHandler.OrderBy(p => p.Key).ToDictionary());
    }

    [Fact]
    public async Task Health_counts_every_ready_step_however_long_the_queue()
    {
        await using var engine = TaskerEngine.InMemory();
        await engine.RegisterTemplateAsync(Workflows.Yaml("one", ("only", [])));
        for (var i = 0; i < 10_001; i++) // one more than health used to list before counting
            await engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "one" });

        var health = await engine.GetHealthAsync();

        Assert.Equal(10_001L, health.ReadyStepsByHandler["only_handler"]);
    }

    [Fact]
    public async Task Health_counts_a_retry_once_it_is_due_and_its_step_as_ready_again()
    {
        var clock = new ManualClock();
        await using var engine = TaskerEngine.InMemory(new TaskerOptions { Time = clock });
        await engine.RegisterTemplateAsync(Workflows.Yaml("one", ("only", [])));
        var task = (await engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "one" })).Task.TaskUuid;
        var claim = (await engine.ClaimStepsAsync(task)).Claims.Single();
        await engine.FailStepAsync(task, claim.StepUuid, claim.ClaimToken, new StepFailure("try again"));

        var waiting = await engine.GetHealthAsync();
        clock.Advance(TimeSpan.FromMinutes(1));
        var due = await engine.GetHealthAsync();

        Assert.Equal((0, 0), (waiting.RetriesDue, waiting.ReadyStepsByHandler.Count));
        Assert.Equal((1, 1L), (due.RetriesDue, due.ReadyStepsByHandler["only_handler"]));
    }

    [Fact]
    public async Task Health_reports_the_managed_heap_and_collection_counts()
    {
        await using var engine = TaskerEngine.InMemory();
        var before = (await engine.GetHealthAsync()).Memory!;
        var garbage = new List<byte[]>();
        for (var i = 0; i < 64; i++) garbage.Add(new byte[64 * 1024]);
        garbage.Clear();
        GC.Collect();

        var after = (await engine.GetHealthAsync()).Memory!;

        Assert.True(after.HeapSizeBytes > 0 && after.CommittedBytes >= after.HeapSizeBytes - after.FragmentedBytes,
            $"heap {after.HeapSizeBytes}, committed {after.CommittedBytes}, fragmented {after.FragmentedBytes}");
        Assert.True(after.TotalAllocatedBytes >= before.TotalAllocatedBytes + 64 * 64 * 1024);
        Assert.True(after.Gen2Collections > before.Gen2Collections, "GC.Collect() is a full collection");
        Assert.True(after.Gen0Collections >= after.Gen1Collections && after.Gen1Collections >= after.Gen2Collections);
        Assert.InRange(after.PauseTimePercentage, 0, 100);
    }
}
