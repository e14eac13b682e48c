using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// For <see cref="TaskerOptions.WorkAffinity"/> after a worker claims a step of a task, other workers' work claims leave
/// the task's other ready steps to that worker's report (its <c>claim_next</c>): a claim of them from another process
/// would make that report lose its compare-and-set and write again. Past it, anyone claims them.
/// </summary>
public sealed class WorkAffinityTests : PostgresTest
{
    private static readonly TimeSpan Affinity = TimeSpan.FromMilliseconds(100);
    private static readonly HashSet<string> F1 = new(StringComparer.Ordinal) { "f1_handler" };

    private static WorkClaimOptions Work(IReadOnlySet<string> handlers, string worker) =>
        new(handlers, 8, TimeSpan.FromSeconds(30), worker, null, TimeSpan.Zero);

    [PostgresFact]
    public async Task Another_worker_leaves_a_task_whose_step_was_just_claimed_and_claims_it_once_the_affinity_has_passed()
    {
        var (a, b, task, _) = await TwoWorkersAndATaskBRunsAStepOfAsync();

        Clock.Advance(Affinity - TimeSpan.FromMilliseconds(1));
        Assert.Empty(await a.ClaimWorkAsync(Work(F1, "a")));

        Clock.Advance(TimeSpan.FromMilliseconds(2));
        var claim = Assert.Single(await a.ClaimWorkAsync(Work(F1, "a")));
        Assert.Equal((task, "f1"), (claim.TaskUuid, claim.StepName));
    }

    [PostgresFact]
    public async Task The_worker_that_holds_the_task_claims_its_other_ready_steps_with_its_report()
    {
        var (a, b, task, first) = await TwoWorkersAndATaskBRunsAStepOfAsync();
        Assert.Empty(await a.ClaimWorkAsync(Work(F1, "a")));

        var next = await b.CompleteAndClaimAsync(task, first.StepUuid, first.ClaimToken, JsonValues.EmptyObject, null, null,
            new ClaimOptions(MaxSteps: 8, WorkerId: "b"));

        Assert.Equal(["f1", "f2", "f3", "f4", "f5", "f6", "f7"], next.Claims.Select(c => c.StepName));
    }

    [PostgresFact]
    public async Task The_worker_that_holds_the_task_takes_its_other_ready_steps_with_a_work_claim_too()
    {
        var (b, _) = await EngineAsync(Clock, workAffinity: Affinity);
        await b.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(b, PgWorkflows.Flat);
        Assert.Single(await b.ClaimWorkAsync(Work(new HashSet<string> { "f0_handler" }, "b") with { MaxSteps = 1 }));

        var claim = Assert.Single(await b.ClaimWorkAsync(Work(F1, "b")));

        Assert.Equal((task, "f1"), (claim.TaskUuid, claim.StepName));
    }

    [PostgresFact]
    public async Task A_task_is_left_to_its_worker_no_longer_than_the_affinity_after_its_oldest_running_step_was_claimed()
    {
        var (a, b, _, _) = await TwoWorkersAndATaskBRunsAStepOfAsync();
        Clock.Advance(Affinity - TimeSpan.FromMilliseconds(10));
        // b keeps claiming steps of the task: the newest is fresh, but the oldest decides.
        Assert.Single(await b.ClaimWorkAsync(Work(new HashSet<string> { "f2_handler" }, "b") with { MaxSteps = 1 }));

        Clock.Advance(TimeSpan.FromMilliseconds(11));

        Assert.Equal("f1", Assert.Single(await a.ClaimWorkAsync(Work(F1, "a"))).StepName);
    }

    [PostgresFact]
    public async Task A_waiting_claim_that_found_work_left_to_another_worker_looks_again_when_the_affinity_has_passed()
    {
        // Real time, and a poll far beyond the wait: only the end of the affinity can bring the claim back in time.
        var options = new TaskerOptions { WorkAffinity = TimeSpan.FromMilliseconds(300), WorkPollInterval = TimeSpan.FromMinutes(5) };
        await using var a = new TaskerEngine(await StoreAsync(), options);
        await using var b = new TaskerEngine(await StoreAsync(), options);
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(a, PgWorkflows.Flat);
        Assert.Single(await b.ClaimWorkAsync(Work(new HashSet<string> { "f0_handler" }, "b") with { MaxSteps = 1 }));

        var claims = await a.ClaimWorkAsync(Work(F1, "a") with { Wait = TimeSpan.FromSeconds(30) });

        Assert.Equal((task, "f1"), (Assert.Single(claims).TaskUuid, claims[0].StepName));
    }

    [PostgresFact]
    public async Task A_task_nobody_runs_a_step_of_is_claimed_at_once()
    {
        var (a, _) = await EngineAsync(Clock, workAffinity: TimeSpan.FromHours(1));
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(a, PgWorkflows.Flat);

        Assert.Equal(task, Assert.Single(await a.ClaimWorkAsync(Work(F1, "a"))).TaskUuid);
    }

    /// <summary>Workers a and b on their own stores, a task of <see cref="PgWorkflows.Flat"/>, and b running its f0.</summary>
    private async Task<(TaskerEngine A, TaskerEngine B, Guid Task, StepClaim Running)> TwoWorkersAndATaskBRunsAStepOfAsync()
    {
        var (a, _) = await EngineAsync(Clock, workAffinity: Affinity);
        var (b, _) = await EngineAsync(Clock, workAffinity: Affinity);
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(a, PgWorkflows.Flat);
        var running = Assert.Single(await b.ClaimWorkAsync(Work(new HashSet<string> { "f0_handler" }, "b") with { MaxSteps = 1 }));
        return (a, b, task, running);
    }
}
