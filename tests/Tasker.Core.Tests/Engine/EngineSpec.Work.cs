using System.Diagnostics;
using Tasker.Core.Tests.Support;
using Xunit;

namespace Tasker.Core.Tests.Engine;

/// <summary>Worker mode: claims across tasks by handler, in priority order, waiting for work.</summary>
public abstract partial class EngineSpec
{
    private static WorkClaimOptions Work(int max, params string[] handlers) => new(handlers.ToHashSet(), max);

    private async Task<Guid> CreateAsync(string name, int priority = 0)
    {
        var created = await Engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = name, Priority = priority });
        return created.Task.TaskUuid;
    }

    [Fact]
    public async Task A_work_claim_takes_ready_steps_across_tasks_highest_priority_first_then_oldest()
    {
        await Engine.RegisterTemplateAsync(Workflows.Linear);
        var old = await CreateAsync("linear");
        Clock.Advance(TimeSpan.FromSeconds(1));
        var urgent = await CreateAsync("linear", priority: 5);
        Clock.Advance(TimeSpan.FromSeconds(1));
        var young = await CreateAsync("linear");

        var claims = await Engine.ClaimWorkAsync(Work(2, "a_handler"));

        Assert.Equal([urgent, old], claims.Select(c => c.TaskUuid));
        Assert.All(claims, c => Assert.Equal("a", c.StepName));
        Assert.Equal(young, (await Engine.ClaimWorkAsync(Work(5, "a_handler"))).Single().TaskUuid);
    }

    [Fact]
    public async Task A_step_due_for_retry_ranks_at_its_retry_time_among_tasks_of_its_priority()
    {
        await Engine.RegisterTemplateAsync(Workflows.Linear);
        var retried = await CreateAsync("linear");
        var first = (await Engine.ClaimWorkAsync(Work(1, "a_handler"))).Single();
        await Engine.FailStepAsync(retried, first.StepUuid, first.ClaimToken, new StepFailure("boom", RetryAfterSeconds: 5));
        Clock.Advance(TimeSpan.FromSeconds(2));
        var before = await CreateAsync("linear");
        Clock.Advance(TimeSpan.FromSeconds(4));
        var after = await CreateAsync("linear");
        Clock.Advance(TimeSpan.FromSeconds(1));

        var claims = await Engine.ClaimWorkAsync(Work(3, "a_handler"));

        Assert.Equal([before, retried, after], claims.Select(c => c.TaskUuid));
    }

    [Fact]
    public async Task A_work_claim_takes_only_steps_of_the_workers_handlers()
    {
        await Engine.RegisterTemplateAsync(Workflows.Diamond);
        var task = await CreateAsync("diamond");
        await Complete(task, "start");

        var claims = await Engine.ClaimWorkAsync(Work(10, "c_handler", "end_handler"));

        Assert.Equal("c", Assert.Single(claims).StepName);
        var b = (await Engine.GetTaskAsync(task)).Steps.Single(s => s.Name == "b");
        Assert.Equal((StepState.Pending, 0), (b.State, b.Attempts));
    }

    [Fact]
    public async Task A_work_claim_counts_the_attempt_and_its_claim_token_alone_reports_the_step()
    {
        await Engine.RegisterTemplateAsync(Workflows.Linear);
        var task = await CreateAsync("linear");
        var claim = (await Engine.ClaimWorkAsync(Work(1, "a_handler"))).Single();

        Assert.Equal(1, claim.Attempt);
        Assert.Empty(await Engine.ClaimWorkAsync(Work(1, "a_handler"))); // in flight: nobody else gets it
        await Rejects(TaskerErrorCode.StaleClaim, async () => await Engine.CompleteStepAsync(task, claim.StepUuid, "forged", JsonValues.Null));
        var outcome = await Engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.Null);
        Assert.Equal(RecommendedAction.Execute, outcome.Action);
    }

    [Fact]
    public async Task A_work_claim_takes_over_a_step_whose_lease_expired()
    {
        await Engine.RegisterTemplateAsync(Workflows.Linear);
        var task = await CreateAsync("linear");
        var lost = (await Engine.ClaimWorkAsync(Work(1, "a_handler") with { Lease = TimeSpan.FromSeconds(10) })).Single();

        Clock.Advance(TimeSpan.FromSeconds(11));
        var again = Assert.Single(await Engine.ClaimWorkAsync(Work(1, "a_handler")));

        Assert.Equal((lost.StepUuid, 2), (again.StepUuid, again.Attempt));
        await Rejects(TaskerErrorCode.StaleClaim, async () => await Engine.CompleteStepAsync(task, lost.StepUuid, lost.ClaimToken, JsonValues.Null));
    }

    [Fact]
    public async Task A_waiting_work_claim_wakes_when_a_task_is_created()
    {
        await Engine.RegisterTemplateAsync(Workflows.Linear);
        var started = Stopwatch.StartNew();
        var waiting = Engine.ClaimWorkAsync(Work(1, "a_handler") with { Wait = TimeSpan.FromSeconds(30) }).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);

        var task = await CreateAsync("linear");

        var claim = Assert.Single(await waiting.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(task, claim.TaskUuid);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), "woken by the creation, not by the 30 s poll");
    }

    [Fact]
    public async Task A_work_claim_with_nothing_ready_returns_empty_after_its_wait()
    {
        var started = Stopwatch.StartNew();
        var claims = await Engine.ClaimWorkAsync(Work(1, "nobody") with { Wait = TimeSpan.FromMilliseconds(300) });
        Assert.Empty(claims);
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(250), $"returned after {started.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task A_timed_out_task_cannot_be_retried_into_a_second_timeout()
    {
        var task = await StartAsync(Workflows.Yaml("retry_timeout", "timeout_seconds: 60", ("a", [])));
        Clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(TaskState.Error, (await Engine.EvaluateAsync(task)).TaskState);

        var e = await Rejects(TaskerErrorCode.InvalidState, async () => await Engine.RetryTaskAsync(task, "ops", "again"));
        Assert.Contains("timeout", e.Message);
        Assert.Equal(TaskState.Error, (await Engine.GetTaskAsync(task)).State);
    }

    [Fact]
    public async Task A_work_claim_naming_a_handler_with_a_NUL_is_refused()
    {
        var e = await Rejects(TaskerErrorCode.InvalidArgument, async () => await Engine.ClaimWorkAsync(Work(1, "a\0")));
        Assert.Equal("handlers", e.Details["field"]);
    }

    [Fact]
    public async Task A_work_claim_must_name_the_workers_handlers()
    {
        var e = await Rejects(TaskerErrorCode.InvalidArgument, async () => await Engine.ClaimWorkAsync(Work(1)));
        Assert.Equal("handlers", e.Details["field"]);
    }

    [Fact]
    public async Task A_work_claim_can_be_limited_to_namespaces()
    {
        await Engine.RegisterTemplateAsync(Workflows.Linear);
        await CreateAsync("linear");

        Assert.Empty(await Engine.ClaimWorkAsync(Work(1, "a_handler") with { Namespaces = new HashSet<string> { "elsewhere" } }));
        Assert.Single(await Engine.ClaimWorkAsync(Work(1, "a_handler") with { Namespaces = new HashSet<string> { "tests" } }));
    }
}
