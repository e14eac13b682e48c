using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// Group commit: changes of different tasks that are ready together in one process share one write statement and
/// one commit, and each caller still learns its own outcome only once it is durable.
/// </summary>
public sealed class GroupCommitTests : PostgresTest
{
    private static readonly string One = PgWorkflows.Yaml("one", ("only", []));

    [PostgresFact]
    public async Task Completions_of_different_tasks_arriving_together_share_commits()
    {
        var (engine, store) = await EngineAsync();
        var claims = await ClaimedTasksAsync(engine, 24);
        var before = store.Statistics;

        var outcomes = await WhileTheWireIsHeldAsync(claims[0].Task, () => claims.Select(c => Complete(engine, c)).ToArray());

        Assert.All(outcomes, o => Assert.Equal((true, TaskState.Complete), (o.Finalized, o.TaskState)));
        var cost = store.Statistics.Since(before);
        Assert.Equal(24, cost.Updates);
        Assert.True(cost.WriteStatements < cost.Updates / 2, $"{cost.WriteStatements} write statements for {cost.Updates} task writes");
        Assert.Equal(24, await TestSql.ScalarAsync<int>(Schema, "SELECT count(*)::int FROM tasker_tasks WHERE state = 'complete'"));
    }

    [PostgresFact]
    public async Task A_change_the_server_refuses_fails_alone_and_the_others_in_its_batch_are_written()
    {
        var (engine, _) = await EngineAsync();
        var claims = await ClaimedTasksAsync(engine, 6);
        await TestSql.ExecuteAsync(Schema, "ALTER TABLE tasker_workflow_steps ADD CONSTRAINT no_poison CHECK (result::text NOT LIKE '%poison%')");
        var poisoned = claims[3];

        var calls = await WhileTheWireIsHeldAsync(claims[0].Task, () => claims.Select(c => Settle(c == poisoned
            ? Task.Run(() => engine.CompleteStepAsync(c.Task, c.Step, c.Token, JsonValues.Parse("{\"x\": \"poison\"}", "result")).AsTask())
            : Complete(engine, c))).ToArray());

        Assert.Equal(TaskerErrorCode.Database, Assert.IsType<TaskerException>(calls[3].Error).Code);
        Assert.All(calls.Where((_, i) => i != 3), c => Assert.Equal(TaskState.Complete, c.Outcome!.TaskState));
        Assert.Equal("in_progress", await TestSql.ScalarAsync<string>(Schema, "SELECT state FROM tasker_tasks WHERE task_uuid = $1", poisoned.Task));
    }

    [PostgresFact]
    public async Task A_change_whose_task_moved_on_writes_nothing_of_it_and_the_others_in_its_batch_are_written()
    {
        var (engine, store) = await EngineAsync();
        var claims = await ClaimedTasksAsync(engine, 6);
        var moved = claims[3];
        // Another process wrote the task since this one loaded it: the change in the batch loses its compare-and-set.
        await TestSql.ExecuteAsync(Schema, "UPDATE tasker_tasks SET row_version = row_version + 1 WHERE task_uuid = $1", moved.Task);
        var before = store.Statistics;

        // The first write waits on the server for a row lock held here; the other five queue behind it and go together.
        var (held, calls) = await QueueBehindAHeldWriteAsync(engine, store, claims);
        await using (held)
        {
            Assert.Equal(calls.Length - 1, store.QueuedWrites);
            await held.ReleaseAsync();
        }
        var outcomes = await Task.WhenAll(calls);

        Assert.All(outcomes, o => Assert.Equal(TaskState.Complete, o.TaskState));
        var cost = store.Statistics.Since(before);
        // The first write alone, the five together (the moved task's change lost there), the moved task's again.
        Assert.Equal((1L, 6L, 3L), (cost.Conflicts, cost.Updates, cost.WriteStatements));
        // Its steps and transitions went in with the change re-run on freshly loaded state, and only then: one
        // completion, and a trail without gaps or doubles (a row of the lost change would have taken an ordinal twice).
        Assert.Equal(1, await TestSql.ScalarAsync<int>(Schema,
            "SELECT count(*)::int FROM tasker_workflow_step_transitions WHERE task_uuid = $1 AND to_state = 'complete'", moved.Task));
        Assert.Equal(await TestSql.ScalarAsync<int>(Schema, """
                SELECT max(ordinal) FROM (SELECT ordinal FROM tasker_task_transitions WHERE task_uuid = $1
                                          UNION ALL SELECT ordinal FROM tasker_workflow_step_transitions WHERE task_uuid = $1) o
                """, moved.Task),
            await TestSql.ScalarAsync<int>(Schema, """
                SELECT count(*)::int FROM (SELECT ordinal FROM tasker_task_transitions WHERE task_uuid = $1
                                          UNION ALL SELECT ordinal FROM tasker_workflow_step_transitions WHERE task_uuid = $1) o
                """, moved.Task));
    }

    [PostgresFact]
    public async Task Writes_queued_behind_a_batch_hold_no_connection_so_a_pool_smaller_than_the_writers_still_batches_them()
    {
        var (engine, store) = await SmallPoolEngineAsync();
        var claims = await ClaimedTasksAsync(engine, 12);
        await QueueBehindAHeldBatchAsync(engine, store, claims);
    }

    [PostgresFact]
    public async Task Writers_that_loaded_their_task_hand_its_connection_back_while_they_wait_for_the_batch()
    {
        var (claimer, _) = await EngineAsync();
        var claims = await ClaimedTasksAsync(claimer, 12);
        var (engine, store) = await SmallPoolEngineAsync(); // its cache is empty: every report loads its task first
        await QueueBehindAHeldBatchAsync(engine, store, claims);
    }

    private Task<(TaskerEngine Engine, PostgresStore Store)> SmallPoolEngineAsync() =>
        EngineAsync(configure: o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString, Schema = o.Schema, ApplicationName = o.ApplicationName, MaxPoolSize = 4,
        });

    /// <summary>
    /// Completes the twelve claims while the first one's write waits on the server for a row lock held here: the other
    /// eleven queue behind it, more writers than the pool of 4 has connections, and only the statement on the wire holds one.
    /// </summary>
    private async Task QueueBehindAHeldBatchAsync(TaskerEngine engine, PostgresStore store, List<Claimed> claims)
    {
        var before = store.Statistics;
        var (held, calls) = await QueueBehindAHeldWriteAsync(engine, store, claims);
        await using (held)
        {
            Assert.Equal((11, 1), (store.QueuedWrites, store.Executor.ConnectionsInUse));
            await held.ReleaseAsync();
        }
        var outcomes = await Task.WhenAll(calls);

        Assert.All(outcomes, o => Assert.Equal(TaskState.Complete, o.TaskState));
        var cost = store.Statistics.Since(before);
        Assert.Equal((12L, 2L), (cost.Updates, cost.WriteStatements));
    }

    [PostgresFact]
    public async Task Two_processes_writing_the_same_tasks_in_opposite_orders_never_deadlock()
    {
        var (a, storeA) = await EngineAsync();
        var (b, storeB) = await EngineAsync();
        await a.RegisterTemplateAsync(PgWorkflows.Flat);
        var tasks = new List<Guid>();
        for (var i = 0; i < 16; i++) tasks.Add(await CreateAsync(a, PgWorkflows.Flat));
        // Each process holds half the steps of every task, so both write every task, and their batches overlap.
        var claimsA = new List<StepClaim>();
        var claimsB = new List<StepClaim>();
        foreach (var task in tasks)
        {
            claimsA.AddRange((await a.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 4))).Claims);
            claimsB.AddRange((await b.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 4))).Claims);
        }
        claimsB.Reverse();

        await Task.WhenAll(
            Task.WhenAll(claimsA.Select(c => Task.Run(() => a.CompleteStepAsync(c.TaskUuid, c.StepUuid, c.ClaimToken, JsonValues.EmptyObject).AsTask()))),
            Task.WhenAll(claimsB.Select(c => Task.Run(() => b.CompleteStepAsync(c.TaskUuid, c.StepUuid, c.ClaimToken, JsonValues.EmptyObject).AsTask()))));

        Assert.Equal(16, await TestSql.ScalarAsync<int>(Schema, "SELECT count(*)::int FROM tasker_tasks WHERE state = 'complete'"));
        Assert.Equal(16, await TestSql.ScalarAsync<int>(Schema,
            "SELECT count(*)::int FROM tasker_task_transitions WHERE to_state = 'complete'"));
        // A deadlock would have been detected by the server and retried: none may have happened.
        Assert.Equal((0L, 0L), (storeA.Statistics.Retries, storeB.Statistics.Retries));
    }

    [PostgresFact]
    public async Task A_batch_whose_connection_is_killed_mid_statement_records_each_change_exactly_once()
    {
        var (engine, store) = await EngineAsync();
        var claims = await ClaimedTasksAsync(engine, 12);
        using var completed = engine.Events.Subscribe("step.completed");

        var outcomes = await WhileTheWireIsHeldAsync(claims[0].Task, () => claims.Select(c => Complete(engine, c)).ToArray(),
            whileHeld: () => TestSql.ScalarAsync<int>(Schema, """
                SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
                WHERE wait_event_type = 'Lock' AND datname = current_database() AND application_name = 'tasker-tests'
                """));

        Assert.All(outcomes, o => Assert.Equal(TaskState.Complete, o.TaskState));
        Assert.True(store.Statistics.Retries > 0, "the killed statement was not retried");
        Assert.Equal(12, completed.Pull().Count);
        Assert.Equal(12, await TestSql.ScalarAsync<int>(Schema,
            "SELECT count(*)::int FROM tasker_workflow_step_transitions WHERE to_state = 'complete'"));
    }

    private sealed record Claimed(Guid Task, Guid Step, string Token);

    private async Task<List<Claimed>> ClaimedTasksAsync(TaskerEngine engine, int count)
    {
        await engine.RegisterTemplateAsync(One);
        var claimed = new List<Claimed>();
        for (var i = 0; i < count; i++)
        {
            var task = await CreateAsync(engine, One);
            var claim = Assert.Single((await engine.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 1))).Claims);
            claimed.Add(new Claimed(task, claim.StepUuid, claim.ClaimToken));
        }
        return claimed;
    }

    private static Task<TaskOutcome> Complete(TaskerEngine engine, Claimed c) =>
        Task.Run(() => engine.CompleteStepAsync(c.Task, c.Step, c.Token, JsonValues.EmptyObject).AsTask());

    private static async Task<(TaskOutcome? Outcome, Exception? Error)> Settle(Task<TaskOutcome> call)
    {
        try { return (await call, null); }
        catch (Exception e) { return (null, e); }
    }

    /// <summary>
    /// Holds the first task's row lock from outside, so the first write statement (which carries that task) waits on
    /// the server while the other writes start and queue behind it; then lets go. Deterministic batching without
    /// timing: nothing else can go on the wire while that statement is there.
    /// </summary>
    private async Task<T[]> WhileTheWireIsHeldAsync<T>(Guid first, Func<Task<T>[]> start, Func<Task<int>>? whileHeld = null)
    {
        await using var held = await HoldTaskRowAsync(first);
        var calls = start();
        // The first call's statement waits for our lock; give the rest time to compute their changes and queue.
        await WaitForLockWaitAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        if (whileHeld is not null) Assert.Equal(1, await whileHeld());
        await held.ReleaseAsync();
        return await Task.WhenAll(calls);
    }

    /// <summary>
    /// Starts completing the claims while the first one's write waits on the server for a row lock held here, and
    /// returns once the others queue behind it (or after 10 s): the caller looks at the queue, then releases the row.
    /// </summary>
    private async Task<(HeldRow Held, Task<TaskOutcome>[] Calls)> QueueBehindAHeldWriteAsync(TaskerEngine engine, PostgresStore store, List<Claimed> claims)
    {
        var held = await HoldTaskRowAsync(claims[0].Task);
        try
        {
            var first = Complete(engine, claims[0]);
            await WaitForLockWaitAsync();
            var rest = claims.Skip(1).Select(c => Complete(engine, c)).ToArray();
            for (var i = 0; i < 400 && store.QueuedWrites < rest.Length; i++) await Task.Delay(25);
            return (held, [first, .. rest]);
        }
        catch
        {
            await held.DisposeAsync();
            throw;
        }
    }

    /// <summary>Locks the task's row from another connection, until released (or disposed).</summary>
    private async Task<HeldRow> HoldTaskRowAsync(Guid task)
    {
        var holder = await TestSql.OpenAsync(Schema);
        try
        {
            var transaction = await holder.BeginTransactionAsync();
            await using var lockRow = new Npgsql.NpgsqlCommand("SELECT 1 FROM tasker_tasks WHERE task_uuid = $1 FOR UPDATE", holder, transaction);
            lockRow.Parameters.Add(new Npgsql.NpgsqlParameter<Guid> { TypedValue = task });
            await lockRow.ExecuteScalarAsync();
            return new HeldRow(holder, transaction);
        }
        catch
        {
            await holder.DisposeAsync();
            throw;
        }
    }

    private sealed class HeldRow(Npgsql.NpgsqlConnection holder, Npgsql.NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public Task ReleaseAsync() => transaction.RollbackAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await holder.DisposeAsync();
        }
    }

    private async Task WaitForLockWaitAsync()
    {
        for (var i = 0; i < 200; i++)
        {
            if (await TestSql.ScalarAsync<int>(Schema,
                    "SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()") > 0)
                return;
            await Task.Delay(25);
        }
        throw new TimeoutException("no write statement ever waited for the held row lock");
    }
}
