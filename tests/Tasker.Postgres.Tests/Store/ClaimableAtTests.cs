using Tasker.Core;
using Tasker.Postgres.Migrations;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// Where a work claim's find looks (migration 10): each task row's <c>claimable_at</c>, written with every task write,
/// is when a worker may next claim one of its steps. The find walks only tasks claimable by now, so it must never be
/// later than the steps say (work would hide) and a task whose steps all run must not be on the walk.
/// </summary>
public sealed class ClaimableAtTests : PostgresTest
{
    private static readonly string Chain = PgWorkflows.Yaml("chain", ("first", []), ("second", ["first"]));
    private static readonly HashSet<string> Handlers = new(StringComparer.Ordinal) { "first_handler", "second_handler" };
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private WorkClaimOptions Work(int steps = 1) => new(Handlers, steps, Lease, "w", null, TimeSpan.Zero);

    [PostgresFact]
    public async Task A_new_task_is_claimable_from_its_creation()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        var task = await CreateAsync(engine, Chain);

        Assert.Equal(Clock.GetUtcNow(), await ClaimableAtAsync(task));
    }

    [PostgresFact]
    public async Task A_task_whose_only_ready_step_runs_is_claimable_from_its_lease_expiry_and_not_before()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        var task = await CreateAsync(engine, Chain);
        Clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Single(await engine.ClaimWorkAsync(Work()));

        Assert.Equal(Clock.GetUtcNow() + Lease, await ClaimableAtAsync(task));
        Assert.Empty(await engine.ClaimWorkAsync(Work()));
    }

    [PostgresFact]
    public async Task A_step_whose_lease_expired_is_claimed_again_by_the_next_work_claim()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        var task = await CreateAsync(engine, Chain);
        var first = Assert.Single(await engine.ClaimWorkAsync(Work()));

        Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        var again = Assert.Single(await engine.ClaimWorkAsync(Work()));

        Assert.Equal((task, first.StepUuid, 2), (again.TaskUuid, again.StepUuid, again.Attempt));
    }

    [PostgresFact]
    public async Task Completing_a_step_that_readies_the_next_one_makes_the_task_claimable_again_from_its_creation()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        var task = await CreateAsync(engine, Chain);
        var created = Clock.GetUtcNow();
        var first = Assert.Single(await engine.ClaimWorkAsync(Work()));
        Clock.Advance(TimeSpan.FromSeconds(1));

        await engine.CompleteStepAsync(task, first.StepUuid, first.ClaimToken, JsonValues.EmptyObject);

        Assert.Equal(created, await ClaimableAtAsync(task));
        var next = Assert.Single(await engine.ClaimWorkAsync(Work()));
        Assert.Equal((await engine.GetTaskAsync(task)).Step("second").StepUuid, next.StepUuid);
    }

    [PostgresFact]
    public async Task A_finished_task_is_never_claimable()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        var task = await CreateAsync(engine, Chain);
        for (var i = 0; i < 2; i++)
        {
            var claim = Assert.Single(await engine.ClaimWorkAsync(Work()));
            await engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);
        }

        Assert.Equal(TaskState.Complete, (await engine.GetTaskAsync(task)).State);
        Assert.Null(await ClaimableAtAsync(task));
    }

    [PostgresFact]
    public async Task A_failed_step_makes_its_task_claimable_at_its_retry_and_the_retry_is_claimed_then()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        var task = await CreateAsync(engine, Chain);
        var claim = Assert.Single(await engine.ClaimWorkAsync(Work()));

        await engine.FailStepAsync(task, claim.StepUuid, claim.ClaimToken, new StepFailure("boom", RetryAfterSeconds: 5));

        Assert.Equal(Clock.GetUtcNow() + TimeSpan.FromSeconds(5), await ClaimableAtAsync(task));
        Assert.Empty(await engine.ClaimWorkAsync(Work()));
        Clock.Advance(TimeSpan.FromSeconds(5));
        var retry = Assert.Single(await engine.ClaimWorkAsync(Work()));
        Assert.Equal((claim.StepUuid, 2), (retry.StepUuid, retry.Attempt));
    }

    [PostgresFact]
    public async Task A_task_an_older_library_inserted_without_claimable_at_is_found_first()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        var newer = await CreateAsync(engine, Chain);
        var older = await CreateAsync(engine, Chain);
        await TestSql.ExecuteAsync(Schema, "UPDATE tasker_tasks SET claimable_at = DEFAULT WHERE task_uuid = $1", older);

        var claim = Assert.Single(await engine.ClaimWorkAsync(Work()));

        Assert.Equal(older, claim.TaskUuid);
        Assert.Equal(Clock.GetUtcNow() + Lease, await ClaimableAtAsync(older));
        Assert.Equal(newer, Assert.Single(await engine.ClaimWorkAsync(Work())).TaskUuid);
    }

    [PostgresFact]
    public async Task Migration_10_gives_the_tasks_already_there_what_the_engine_writes()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        var fresh = await CreateAsync(engine, Chain);
        var running = await CreateAsync(engine, Chain);
        var retrying = await CreateAsync(engine, Chain);
        var halfway = await CreateAsync(engine, Chain);
        var finished = await CreateAsync(engine, Chain);
        foreach (var task in new[] { running, retrying, halfway, finished })
        {
            var claim = (await engine.ClaimStepsAsync(task, new ClaimOptions(Lease: Lease))).Claims.Single();
            if (task == retrying)
                await engine.FailStepAsync(task, claim.StepUuid, claim.ClaimToken, new StepFailure("boom", RetryAfterSeconds: 7));
            else if (task != running)
                await engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);
        }
        var second = (await engine.ClaimStepsAsync(finished)).Claims.Single();
        await engine.CompleteStepAsync(finished, second.StepUuid, second.ClaimToken, JsonValues.EmptyObject);
        var written = await AllClaimableAtAsync();

        await TestSql.ExecuteAsync(Schema, "UPDATE tasker_tasks SET claimable_at = NULL");
        await TestSql.ExecuteAsync(Schema, BackfillStatement());

        Assert.Equal(written, await AllClaimableAtAsync());
        Assert.Equal(5, written.Count);
        Assert.Null(written[finished]);
        Assert.All(new[] { fresh, running, retrying, halfway }, t => Assert.NotNull(written[t]));
    }

    private async Task<DateTimeOffset?> ClaimableAtAsync(Guid task)
    {
        var row = Assert.Single(await TestSql.RowsAsync(Schema, "SELECT claimable_at FROM tasker_tasks WHERE task_uuid = $1", task));
        return row[0] is DateTime at ? new DateTimeOffset(at, TimeSpan.Zero) : null;
    }

    private async Task<Dictionary<Guid, DateTime?>> AllClaimableAtAsync() =>
        (await TestSql.RowsAsync(Schema, "SELECT task_uuid, claimable_at FROM tasker_tasks"))
        .ToDictionary(r => (Guid)r[0]!, r => (DateTime?)r[1]);

    /// <summary>The migration's UPDATE of the tasks already there, as shipped.</summary>
    private static string BackfillStatement()
    {
        var sql = Migrator.Scripts.Single(s => s.Version == 10).Sql;
        var start = sql.IndexOf("UPDATE tasker_tasks", StringComparison.Ordinal);
        return sql[start..(sql.IndexOf(';', start) + 1)];
    }
}
