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
        var (a, _) = await EngineAsync(Clock, workAffinity: Affinity);
        var (b, _) = await EngineAsync(Clock, workAffinity: Affinity);
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(a, PgWorkflows.Flat);
        Assert.Single(await b.ClaimWorkAsync(Work(new HashSet<string> { "f0_handler" }, "b") with { MaxSteps = 1 }));

        Clock.Advance(Affinity - TimeSpan.FromMilliseconds(1));
        Assert.Empty(await a.ClaimWorkAsync(Work(F1, "a")));

        Clock.Advance(TimeSpan.FromMilliseconds(2));
        var claim = Assert.Single(await a.ClaimWorkAsync(Work(F1, "a")));
        Assert.Equal((task, "f1"), (claim.TaskUuid, claim.StepName));
    }

    [PostgresFact]
    public async Task The_worker_that_holds_the_task_claims_its_other_ready_steps_with_its_report()
    {
        var (a, _) = await EngineAsync(Clock, workAffinity: Affinity);
        var (b, _) = await EngineAsync(Clock, workAffinity: Affinity);
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(a, PgWorkflows.Flat);
        var first = Assert.Single(await b.ClaimWorkAsync(Work(new HashSet<string> { "f0_handler" }, "b") with { MaxSteps = 1 }));
        Assert.Empty(await a.ClaimWorkAsync(Work(F1, "a")));

        var next = await b.CompleteAndClaimAsync(task, first.StepUuid, first.ClaimToken, JsonValues.EmptyObject, null, null,
            new ClaimOptions(MaxSteps: 8, WorkerId: "b"));

        Assert.Equal(["f1", "f2", "f3", "f4", "f5", "f6", "f7"], next.Claims.Select(c => c.StepName));
    }

    [PostgresFact]
    public async Task A_task_nobody_runs_a_step_of_is_claimed_at_once()
    {
        var (a, _) = await EngineAsync(Clock, workAffinity: TimeSpan.FromHours(1));
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(a, PgWorkflows.Flat);

        Assert.Equal(task, Assert.Single(await a.ClaimWorkAsync(Work(F1, "a"))).TaskUuid);
    }
}
