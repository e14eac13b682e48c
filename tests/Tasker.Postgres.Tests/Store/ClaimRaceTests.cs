using System.Collections.Concurrent;
using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>Two engines with their own connection pools on one database: the situation of two worker processes.</summary>
public sealed class ClaimRaceTests : PostgresTest
{
    [PostgresFact]
    public async Task Engines_claiming_the_same_tasks_at_once_never_get_the_same_step()
    {
        var (a, _) = await EngineAsync();
        var (b, _) = await EngineAsync();
        await a.RegisterTemplateAsync(PgWorkflows.Wide);
        var tasks = new List<Guid>();
        for (var i = 0; i < 15; i++) tasks.Add(await CreateAsync(a, PgWorkflows.Wide));

        var claims = new ConcurrentBag<(Guid Task, Guid Step, string Token)>();
        await StartGate.RaceAsync(8, async n =>
        {
            var engine = n % 2 == 0 ? a : b;
            foreach (var task in tasks)
                foreach (var c in (await engine.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 2, WorkerId: $"w{n}"))).Claims)
                    claims.Add((task, c.StepUuid, c.ClaimToken));
        });

        // 8 claimers x 2 steps = 16 >= 10 independent steps per task: every one is claimed, none twice.
        Assert.Equal(tasks.Count * 10, claims.Count);
        Assert.Equal(claims.Count, claims.Select(c => (c.Task, c.Step)).Distinct().Count());
        foreach (var task in tasks)
        {
            var view = await b.GetTaskAsync(task);
            Assert.Equal(10, view.Steps.Count(s => s.State == StepState.InProgress && s.Attempts == 1));
            Assert.Equal(StepState.Pending, view.Step("join").State);
        }
    }

    [PostgresFact]
    public async Task A_stale_token_from_another_engine_is_rejected_and_changes_nothing()
    {
        var (a, _) = await EngineAsync(Clock);
        var (b, _) = await EngineAsync(Clock);
        await a.RegisterTemplateAsync(PgWorkflows.Mixed);
        var task = await CreateAsync(a, PgWorkflows.Mixed);

        var first = (await a.ClaimStepsAsync(task, new ClaimOptions(Lease: TimeSpan.FromSeconds(30)))).Claims.Single();
        Clock.Advance(TimeSpan.FromSeconds(31));
        var second = (await b.ClaimStepsAsync(task)).Claims.Single();
        Assert.Equal((first.StepUuid, 2), (second.StepUuid, second.Attempt));

        // Engine a still holds its own (now stale) copy of the task: its write must lose, and the rejection must be
        // judged on the current state.
        var e = await Assert.ThrowsAsync<TaskerException>(() => a.CompleteStepAsync(task, first.StepUuid, first.ClaimToken, JsonValues.Parse("1", "r")).AsTask());
        Assert.Equal(TaskerErrorCode.StaleClaim, e.Code);
        await a.CompleteStepAsync(task, second.StepUuid, second.ClaimToken, JsonValues.Parse("2", "r"));

        var view = await b.GetTaskAsync(task, includeTransitions: true);
        Assert.Equal("2", view.Step("init").Result!.Value.GetRawText());
        Assert.Single(view.Transitions, t => t.StepName == "init" && t.To == "complete");
    }

    [PostgresFact]
    public async Task Exactly_one_of_many_racing_finishers_finalizes_each_task()
    {
        var (a, _) = await EngineAsync();
        var (b, _) = await EngineAsync();
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var finalized = new ConcurrentDictionary<Guid, int>();
        for (var round = 0; round < 20; round++)
        {
            var task = await CreateAsync(a, PgWorkflows.Flat);
            var claims = (await a.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 8))).Claims;
            await StartGate.RaceAsync(claims.Count, async n =>
            {
                var c = claims[n];
                var outcome = await (n % 2 == 0 ? a : b).CompleteStepAsync(task, c.StepUuid, c.ClaimToken, JsonValues.EmptyObject);
                if (outcome.Finalized) finalized.AddOrUpdate(task, 1, (_, v) => v + 1);
            });
            Assert.Equal(1, finalized.GetValueOrDefault(task));
            Assert.Equal(1, await TestSql.ScalarAsync<int>(Schema,
                "SELECT count(*)::int FROM tasker_task_transitions WHERE task_uuid = $1 AND to_state = 'complete'", task));
        }
    }

    [PostgresFact]
    public async Task A_change_that_keeps_losing_the_race_takes_the_row_lock_and_wins()
    {
        var (a, storeA) = await EngineAsync();
        var (b, _) = await EngineAsync();
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(a, PgWorkflows.Flat);
        var claims = (await a.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 8))).Claims;

        // Just before a's first two writes, b writes the task (a heartbeat): a's cached copy, then its fresh copy,
        // are stale by the time they are written. The third try runs under the row lock (b must not write then).
        var writes = 0;
        storeA.BeforeWrite = _ =>
        {
            if (++writes <= 2)
                b.HeartbeatAsync(task, claims[7].StepUuid, claims[7].ClaimToken).AsTask().GetAwaiter().GetResult();
        };
        var outcome = await a.CompleteStepAsync(task, claims[0].StepUuid, claims[0].ClaimToken, JsonValues.EmptyObject);

        Assert.Equal(RecommendedAction.Wait, outcome.Action);
        Assert.Equal((2L, 1L, 3), (storeA.Statistics.Conflicts, storeA.Statistics.LockedUpdates, writes));
        var view = await b.GetTaskAsync(task, includeTransitions: true);
        Assert.Equal(StepState.Complete, view.Steps[0].State);
        Assert.Single(view.Transitions, t => t.StepUuid == claims[0].StepUuid && t.To == "complete");
    }

    [PostgresFact]
    public async Task A_work_claim_passes_over_a_task_another_process_holds_and_takes_the_next_one()
    {
        var (a, storeA) = await EngineAsync();
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var first = await CreateAsync(a, PgWorkflows.Flat);
        var second = await CreateAsync(a, PgWorkflows.Flat);
        var handlers = new HashSet<string>(StringComparer.Ordinal) { "f0_handler" };

        // Another process is in the middle of a change of the oldest task: it holds its row.
        await using var other = await TestSql.OpenAsync(Schema);
        await using var holding = await other.BeginTransactionAsync();
        await using (var lockRow = new Npgsql.NpgsqlCommand("SELECT 1 FROM tasker_tasks WHERE task_uuid = $1 FOR UPDATE", other, holding))
        {
            lockRow.Parameters.Add(new Npgsql.NpgsqlParameter<Guid> { TypedValue = first });
            await lockRow.ExecuteNonQueryAsync();
        }
        var before = storeA.Statistics;
        var claims = await a.ClaimWorkAsync(new WorkClaimOptions(handlers, 1, TimeSpan.FromSeconds(30), "a", null, TimeSpan.Zero));
        var cost = storeA.Statistics.Since(before);

        // Not waited for, no race lost after the fact: the next task's step, in one find and one write.
        Assert.Equal([second], claims.Select(c => c.TaskUuid));
        Assert.Equal(0L, cost.Conflicts);
        Assert.Equal(2L, cost.Statements); // the find (with BEGIN), the write (with COMMIT)
        await holding.RollbackAsync();
        var view = await a.GetTaskAsync(first);
        Assert.All(view.Steps, s => Assert.Equal(StepState.Pending, s.State));
    }

    [PostgresFact]
    public async Task A_work_claim_takes_every_ready_task_it_asks_for_when_nobody_else_holds_any()
    {
        // 200 tasks in one claim: when this process's task gates were 1,024 stripes, about 19 pairs of them shared
        // one and the claim passed the second task of each pair over.
        var single = PgWorkflows.Yaml("single", ("only", []));
        var (a, _) = await EngineAsync();
        await a.RegisterTemplateAsync(single);
        var tasks = new HashSet<Guid>();
        for (var i = 0; i < 200; i++) tasks.Add(await CreateAsync(a, single));
        var handlers = new HashSet<string>(StringComparer.Ordinal) { "only_handler" };

        var claims = await a.ClaimWorkAsync(new WorkClaimOptions(handlers, 200, TimeSpan.FromSeconds(30), "a", null, TimeSpan.Zero));

        Assert.Equal(tasks, claims.Select(c => c.TaskUuid).ToHashSet());
    }

    [PostgresFact]
    public async Task A_work_claim_goes_on_past_all_the_tasks_another_process_holds_however_many()
    {
        var (a, storeA) = await EngineAsync();
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var tasks = new List<Guid>();
        for (var i = 0; i < 10; i++)
            tasks.Add(await CreateAsync(a, PgWorkflows.Flat));
        var handlers = new HashSet<string>(StringComparer.Ordinal) { "f0_handler" };

        // Another worker's claim holds the eight oldest tasks (more than the claim asks for) until it commits.
        await using var other = await TestSql.OpenAsync(Schema);
        await using var holding = await other.BeginTransactionAsync();
        await using (var lockRows = new Npgsql.NpgsqlCommand("SELECT 1 FROM tasker_tasks WHERE task_uuid = ANY($1) FOR UPDATE", other, holding))
        {
            lockRows.Parameters.Add(new Npgsql.NpgsqlParameter<Guid[]> { TypedValue = [.. tasks.Take(8)] });
            await lockRows.ExecuteNonQueryAsync();
        }
        var before = storeA.Statistics;
        var claims = await a.ClaimWorkAsync(new WorkClaimOptions(handlers, 2, TimeSpan.FromSeconds(30), "a", null, TimeSpan.Zero));
        var cost = storeA.Statistics.Since(before);

        // The held tasks do not use up the claim: it takes the two after them, still in one find and one write.
        Assert.Equal(tasks.Skip(8), claims.Select(c => c.TaskUuid));
        Assert.Equal(2L, cost.Statements);
        await holding.RollbackAsync();
    }

    [PostgresFact]
    public async Task A_work_claim_locks_at_most_two_tasks_of_the_queue_beyond_those_it_takes()
    {
        var (a, storeA) = await EngineAsync();
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        for (var i = 0; i < 10; i++)
            await CreateAsync(a, PgWorkflows.Flat);
        var handlers = new HashSet<string>(StringComparer.Ordinal) { "f0_handler" };

        // While a's claim holds what its find locked, count what another process could still lock.
        await using var other = await TestSql.OpenAsync(Schema);
        long? free = null;
        storeA.AfterWorkFind = () =>
        {
            using var count = new Npgsql.NpgsqlCommand(
                "SELECT count(*) FROM (SELECT 1 FROM tasker_tasks FOR UPDATE SKIP LOCKED) f", other);
            free = (long)count.ExecuteScalar()!;
        };
        var claims = await a.ClaimWorkAsync(new WorkClaimOptions(handlers, 2, TimeSpan.FromSeconds(30), "a", null, TimeSpan.Zero));

        // The find stops walking the queue just past the tasks it takes (its row that would say it passed some over,
        // and the one row its running count reads ahead): the rest is left to other workers.
        Assert.Equal(2, claims.Count);
        Assert.InRange(10 - free!.Value, 2, 4);
    }

    [PostgresFact]
    public async Task A_work_claim_that_passed_over_its_only_task_looks_again_at_once()
    {
        var (a, storeA) = await EngineAsync();
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(a, PgWorkflows.Flat);
        var handlers = new HashSet<string>(StringComparer.Ordinal) { "f0_handler" };

        // Another process holds the task when a looks, and lets go right after: its steps are still ready, and
        // nothing will announce them.
        await using var other = await TestSql.OpenAsync(Schema);
        var holding = await other.BeginTransactionAsync();
        await using (var lockRow = new Npgsql.NpgsqlCommand("SELECT 1 FROM tasker_tasks WHERE task_uuid = $1 FOR UPDATE", other, holding))
        {
            lockRow.Parameters.Add(new Npgsql.NpgsqlParameter<Guid> { TypedValue = task });
            await lockRow.ExecuteNonQueryAsync();
        }
        var finds = 0;
        storeA.AfterWorkFind = () =>
        {
            if (++finds == 1) holding.Rollback();
        };
        var claims = await a.ClaimWorkAsync(new WorkClaimOptions(handlers, 1, TimeSpan.FromSeconds(30), "a", null, TimeSpan.Zero));

        Assert.Equal(2, finds);
        var claim = Assert.Single(claims); // without waiting: a looked again at once
        Assert.Equal(task, claim.TaskUuid);
    }

    [PostgresFact]
    public async Task A_work_claim_does_not_hold_a_task_another_worker_runs_a_step_of_so_its_report_goes_through()
    {
        // No work affinity: a claims the task's ready steps while b still runs one (WorkAffinityTests: with it, a leaves them).
        var (a, storeA) = await EngineAsync(workAffinity: TimeSpan.Zero);
        var (b, storeB) = await EngineAsync();
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(a, PgWorkflows.Flat);
        var running = (await b.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 1, Handlers: new HashSet<string> { "f0_handler" }))).Claims.Single();

        // a finds the task while b runs its step; b reports it before a claims. b's report must not wait for a's
        // transaction and then lose its compare-and-set to it: a leaves the task unheld and claims it on its own after.
        var finds = 0;
        storeA.AfterWorkFind = () =>
        {
            if (++finds == 1)
                b.CompleteStepAsync(task, running.StepUuid, running.ClaimToken, JsonValues.EmptyObject).AsTask().GetAwaiter().GetResult();
        };
        var before = storeB.Statistics;
        var claims = await a.ClaimWorkAsync(new WorkClaimOptions(new HashSet<string> { "f1_handler" }, 1, TimeSpan.FromSeconds(30), "a", null, TimeSpan.Zero));

        Assert.Equal(1, finds);
        Assert.Equal(0L, storeB.Statistics.Since(before).Conflicts);
        var claim = Assert.Single(claims);
        Assert.Equal("f1", claim.StepName);
        var view = await b.GetTaskAsync(task, includeTransitions: true);
        Assert.Equal(StepState.Complete, view.Step("f0").State);
        Assert.Equal((StepState.InProgress, 1), (view.Step("f1").State, view.Step("f1").Attempts));
    }

    [PostgresFact]
    public async Task A_work_claim_whose_connection_drops_before_its_commit_runs_again_and_claims_each_step_once()
    {
        var (a, storeA) = await EngineAsync(applicationName: "tasker-claim-drop");
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(a, PgWorkflows.Flat);

        // The database drops the claim's connection while it holds the task, before its write and commit.
        var finds = 0;
        storeA.AfterWorkFind = () =>
        {
            if (++finds == 1)
                TestSql.ExecuteAsync(null, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity " +
                    "WHERE application_name = 'tasker-claim-drop' AND state = 'idle in transaction'").GetAwaiter().GetResult();
        };
        var claims = await a.ClaimWorkAsync(new WorkClaimOptions(new HashSet<string> { "f0_handler" }, 1, TimeSpan.FromSeconds(30), "a", null, TimeSpan.Zero));

        Assert.True(finds >= 2, "the claim ran again after the dropped connection");
        var claim = Assert.Single(claims);
        var view = await a.GetTaskAsync(task, includeTransitions: true);
        Assert.Equal((StepState.InProgress, 1), (view.Step("f0").State, view.Step("f0").Attempts));
        Assert.Single(view.Transitions, t => t.StepUuid == claim.StepUuid && t.To == "in_progress");
    }

    [PostgresFact]
    public async Task Creating_the_same_identity_from_two_engines_at_once_yields_one_task()
    {
        var (a, _) = await EngineAsync();
        var (b, _) = await EngineAsync();
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var results = await StartGate.RaceAsync(10, n =>
            (n % 2 == 0 ? a : b).CreateTaskAsync(new TaskRequest { Namespace = "pg", Name = "flat", IdempotencyKey = "order-42" }).AsTask());

        Assert.Single(results, r => r.Created);
        Assert.Single(results.Select(r => r.Task.TaskUuid).Distinct());
        Assert.Equal(1, await TestSql.ScalarAsync<int>(Schema, "SELECT count(*)::int FROM tasker_tasks"));
    }
}
