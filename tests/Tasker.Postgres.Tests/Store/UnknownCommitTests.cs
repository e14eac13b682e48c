using Tasker.Core;
using Tasker.Core.Templates;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// The connection drops after a commit was sent: did it happen? The store settles it on the retry (the write's
/// stamp is in the row or it is not), so a completion is recorded exactly once and its caller still gets the outcome.
/// </summary>
public sealed class UnknownCommitTests : PostgresTest
{
    private static readonly string One = PgWorkflows.Yaml("one", ("only", []));
    private static readonly HashSet<string> OnlyHandler = new(StringComparer.Ordinal) { "only_handler" };

    [PostgresFact]
    public async Task A_completion_whose_commit_reply_was_lost_is_recorded_once_and_reported_as_done()
    {
        var (engine, store) = await EngineAsync();
        await engine.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(engine, PgWorkflows.Flat);
        var claims = (await engine.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 8))).Claims;
        using var events = engine.Events.Subscribe("step.completed");

        var lose = 1;
        store.LoseReplyAfterCommit = _ => Interlocked.Exchange(ref lose, 0) == 1; // the next commit's reply only
        var outcome = await engine.CompleteStepAsync(task, claims[0].StepUuid, claims[0].ClaimToken, JsonValues.Parse("{\"n\": 1}", "r"));

        Assert.Equal(RecommendedAction.Wait, outcome.Action);
        Assert.Equal(1, store.Statistics.UnknownCommitsRecovered);
        Assert.Single(events.Pull());
        Assert.Equal(1, await TestSql.ScalarAsync<int>(Schema,
            "SELECT count(*)::int FROM tasker_workflow_step_transitions WHERE step_uuid = $1 AND to_state = 'complete'", claims[0].StepUuid));

        // The last completion finalizes the task; losing that reply must not lose the news.
        foreach (var c in claims.Skip(1).Take(6))
            await engine.CompleteStepAsync(task, c.StepUuid, c.ClaimToken, JsonValues.EmptyObject);
        lose = 1;
        var last = await engine.CompleteStepAsync(task, claims[7].StepUuid, claims[7].ClaimToken, JsonValues.EmptyObject);
        Assert.Equal((true, TaskState.Complete), (last.Finalized, last.TaskState));
        Assert.Equal(2, store.Statistics.UnknownCommitsRecovered);
        Assert.Equal(1, await TestSql.ScalarAsync<int>(Schema,
            "SELECT count(*)::int FROM tasker_task_transitions WHERE task_uuid = $1 AND to_state = 'complete'", task));
    }

    [PostgresFact]
    public async Task A_lost_reply_is_settled_even_when_another_process_wrote_the_task_in_between()
    {
        var (a, storeA) = await EngineAsync();
        var (b, _) = await EngineAsync();
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(a, PgWorkflows.Flat);
        var claims = (await a.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 8))).Claims;

        var lose = 1;
        storeA.LoseReplyAfterCommit = _ =>
        {
            if (Interlocked.Exchange(ref lose, 0) == 0) return false;
            // Before a's retry looks, b records another completion: the task row's write stamp is now b's.
            b.CompleteStepAsync(task, claims[1].StepUuid, claims[1].ClaimToken, JsonValues.EmptyObject).AsTask().GetAwaiter().GetResult();
            return true;
        };
        var outcome = await a.CompleteStepAsync(task, claims[0].StepUuid, claims[0].ClaimToken, JsonValues.EmptyObject);

        Assert.Equal(RecommendedAction.Wait, outcome.Action);
        Assert.Equal(1, storeA.Statistics.UnknownCommitsRecovered);
        var view = await b.GetTaskAsync(task, includeTransitions: true);
        Assert.Equal(2, view.Steps.Count(s => s.State == StepState.Complete));
        Assert.Equal(2, view.Transitions.Count(t => t.To == "complete"));
    }

    [PostgresFact]
    public async Task A_write_that_did_not_commit_is_simply_run_again()
    {
        var (engine, store) = await EngineAsync(applicationName: "tasker-dropped");
        await engine.RegisterTemplateAsync(PgWorkflows.Mixed);
        var task = await CreateAsync(engine, PgWorkflows.Mixed);
        // Break the connection before the write: terminate this store's backends between claim and completion.
        var claim = (await engine.ClaimStepsAsync(task)).Claims.Single();
        await TestSql.ExecuteAsync(null, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tasker-dropped' AND datname = current_database() AND pid <> pg_backend_pid()");

        var outcome = await engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);

        Assert.Equal(RecommendedAction.Execute, outcome.Action);
        Assert.True(store.Statistics.Retries >= 1);
        Assert.Equal(StepState.Complete, (await engine.GetTaskAsync(task)).Step("init").State);
    }

    [PostgresFact]
    public async Task A_work_claim_whose_commit_reply_was_lost_hands_out_its_claims_once()
    {
        var (engine, store) = await EngineAsync();
        await engine.RegisterTemplateAsync(One);
        Guid[] tasks = [await CreateAsync(engine, One), await CreateAsync(engine, One), await CreateAsync(engine, One)];
        using var started = engine.Events.Subscribe("step.started");
        var lose = 1;
        store.LoseReplyAfterCommit = _ => Interlocked.Exchange(ref lose, 0) == 1;

        var claims = await engine.ClaimWorkAsync(new WorkClaimOptions(OnlyHandler, MaxSteps: 8, WorkerId: "w"));

        // Not left in progress with nobody running them until their leases expire: handed out, each attempt counted once.
        Assert.Equal(tasks.Order(), claims.Select(c => c.TaskUuid).Order());
        Assert.Equal(1, store.Statistics.UnknownCommitsRecovered);
        Assert.Equal(3, started.Pull().Count);
        Assert.Equal(3, await TestSql.ScalarAsync<int>(Schema,
            "SELECT count(*)::int FROM tasker_workflow_steps WHERE state = 'in_progress' AND attempts = 1 AND claimed_by = 'w'"));
        foreach (var claim in claims) // the tokens handed out are the ones the rows hold
            Assert.Equal(TaskState.Complete, (await engine.CompleteStepAsync(claim.TaskUuid, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject)).TaskState);
    }

    [PostgresFact]
    public async Task A_work_claim_whose_connection_was_cut_before_its_commit_claims_again()
    {
        var (engine, store) = await EngineAsync(applicationName: "tasker-cut");
        await engine.RegisterTemplateAsync(One);
        Guid[] tasks = [await CreateAsync(engine, One), await CreateAsync(engine, One)];
        var cut = 1;
        // The find has locked the tasks; the claim's connection goes before its write and commit are sent.
        store.AfterWorkFind = () =>
        {
            if (Interlocked.Exchange(ref cut, 0) == 1)
                TestSql.ExecuteAsync(null, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tasker-cut' AND datname = current_database() AND pid <> pg_backend_pid()")
                    .GetAwaiter().GetResult();
        };

        // Waiting: the cut backend lets go of its row locks a moment after its connection drops.
        var claims = await engine.ClaimWorkAsync(new WorkClaimOptions(OnlyHandler, MaxSteps: 8, WorkerId: "w", Wait: TimeSpan.FromSeconds(10)));

        Assert.Equal(tasks.Order(), claims.Select(c => c.TaskUuid).Order());
        Assert.True(store.Statistics.Retries >= 1);
        Assert.Equal(0, store.Statistics.UnknownCommitsRecovered);
        Assert.Equal(2, await TestSql.ScalarAsync<int>(Schema,
            "SELECT count(*)::int FROM tasker_workflow_steps WHERE state = 'in_progress' AND attempts = 1"));
    }

    [PostgresFact]
    public async Task A_create_retried_after_a_lost_reply_reports_the_task_as_created_once()
    {
        var store = await StoreAsync();
        var template = TemplateParser.Parse(PgWorkflows.Flat);
        await store.SaveTemplateAsync(template, CancellationToken.None);
        var task = Tasker.Core.TaskFactory.Create(template, new TaskRequest { Namespace = "pg", Name = "flat", IdempotencyKey = "k" }, new TaskerOptions(), DateTimeOffset.UtcNow);

        var first = await store.CreateTaskAsync(task, CancellationToken.None);
        var again = await store.CreateTaskAsync(task, CancellationToken.None); // what the retry does

        Assert.Equal((task.Uuid, true), first);
        Assert.Equal((task.Uuid, true), again);
        Assert.Equal(1, await TestSql.ScalarAsync<int>(Schema, "SELECT count(*)::int FROM tasker_tasks"));
    }
}
