using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Sql;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// A write that only claims steps commits without waiting for the WAL flush (<see cref="PostgresStoreOptions.DurableClaims"/>
/// off, the default); every other write returns only once durable, and so do claims with the option on.
/// </summary>
public sealed class ClaimDurabilityTests : PostgresTest
{
    private static readonly string One = PgWorkflows.Yaml("one", ("only", []));
    private static readonly string Chain = PgWorkflows.Yaml("chain", ("a", []), ("b", ["a"]));
    private static readonly HashSet<string> Handlers = new(StringComparer.Ordinal) { "only_handler" };

    private static PostgresStoreOptions DurableClaims(PostgresStoreOptions o) => new()
    {
        ConnectionString = o.ConnectionString, Schema = o.Schema, ApplicationName = o.ApplicationName, DurableClaims = true,
    };

    [PostgresFact]
    public async Task A_claim_of_a_task_commits_without_waiting_for_the_flush()
    {
        var (engine, store) = await EngineAsync();
        var task = await CreatedAsync(engine);
        var before = store.Statistics;

        var claim = Assert.Single((await engine.ClaimStepsAsync(task, new ClaimOptions(WorkerId: "w"))).Claims);

        var cost = store.Statistics.Since(before);
        Assert.Equal((1L, 1L), (cost.WriteStatements, cost.UnflushedClaimWrites));
        Assert.Equal(claim.ClaimToken, await TestSql.ScalarAsync<string>(Schema, "SELECT claim_token FROM tasker_workflow_steps WHERE task_uuid = $1", task));
    }

    [PostgresFact]
    public async Task A_work_claim_across_tasks_commits_without_waiting_for_the_flush()
    {
        var (engine, store) = await EngineAsync();
        await CreatedAsync(engine);
        var before = store.Statistics;

        Assert.Single(await engine.ClaimWorkAsync(new WorkClaimOptions(Handlers, WorkerId: "w")));

        Assert.Equal(1L, store.Statistics.Since(before).UnflushedClaimWrites);
    }

    [PostgresFact]
    public async Task A_report_waits_for_the_flush()
    {
        var (engine, store) = await EngineAsync();
        var task = await CreatedAsync(engine);
        var claim = Assert.Single((await engine.ClaimStepsAsync(task, new ClaimOptions(WorkerId: "w"))).Claims);
        var before = store.Statistics;

        var outcome = await engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);

        Assert.Equal(TaskState.Complete, outcome.TaskState);
        var cost = store.Statistics.Since(before);
        Assert.Equal((1L, 0L), (cost.WriteStatements, cost.UnflushedClaimWrites));
    }

    [PostgresFact]
    public async Task A_report_that_claims_the_next_step_waits_for_the_flush()
    {
        var (engine, store) = await EngineAsync();
        await engine.RegisterTemplateAsync(Chain);
        var task = await CreateAsync(engine, Chain);
        var first = Assert.Single((await engine.ClaimStepsAsync(task, new ClaimOptions(WorkerId: "w"))).Claims);
        var before = store.Statistics;

        var next = await engine.CompleteAndClaimAsync(task, first.StepUuid, first.ClaimToken, JsonValues.EmptyObject, null, null,
            new ClaimOptions(MaxSteps: 8, WorkerId: "w"));

        Assert.Equal("b", Assert.Single(next.Claims).StepName);
        var cost = store.Statistics.Since(before);
        Assert.Equal((1L, 0L), (cost.WriteStatements, cost.UnflushedClaimWrites));
    }

    [PostgresFact]
    public async Task With_durable_claims_a_claim_waits_for_the_flush()
    {
        var (engine, store) = await EngineAsync(configure: DurableClaims);
        var task = await CreatedAsync(engine);
        var before = store.Statistics;

        Assert.Single((await engine.ClaimStepsAsync(task, new ClaimOptions(WorkerId: "w"))).Claims);

        var cost = store.Statistics.Since(before);
        Assert.Equal((1L, 0L), (cost.WriteStatements, cost.UnflushedClaimWrites));
    }

    [PostgresFact]
    public async Task The_unflushed_answer_turns_the_flush_off_for_its_own_transaction_only()
    {
        await using var connection = await TestSql.OpenAsync(Schema);
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var write = new NpgsqlCommand($"WITH t AS (SELECT gen_random_uuid() AS task_uuid) {TaskSql.WrittenUnflushed}", connection, transaction))
            Assert.IsType<Guid>(await write.ExecuteScalarAsync());

        Assert.Equal("off", await SynchronousCommitAsync(connection, transaction));
        await transaction.CommitAsync();
        Assert.Equal("on", await SynchronousCommitAsync(connection, null));
    }

    [PostgresFact]
    public async Task The_unflushed_answer_leaves_a_setting_that_asks_for_more_as_it_is()
    {
        await using var connection = await TestSql.OpenAsync(Schema);
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var strict = new NpgsqlCommand("SET LOCAL synchronous_commit = remote_apply", connection, transaction))
            await strict.ExecuteNonQueryAsync();
        await using (var write = new NpgsqlCommand($"WITH t AS (SELECT gen_random_uuid() AS task_uuid) {TaskSql.WrittenUnflushed}", connection, transaction))
            Assert.IsType<Guid>(await write.ExecuteScalarAsync());

        Assert.Equal("remote_apply", await SynchronousCommitAsync(connection, transaction));
    }

    [PostgresFact]
    public async Task A_claim_leaves_its_pooled_connection_flushing_later_commits()
    {
        var (engine, store) = await EngineAsync(configure: o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString, Schema = o.Schema, ApplicationName = o.ApplicationName, MaxPoolSize = 1,
        });
        var task = await CreatedAsync(engine);
        Assert.Single((await engine.ClaimStepsAsync(task, new ClaimOptions(WorkerId: "w"))).Claims);

        var setting = await store.Executor.RunAsync("test", 0, static (connection, _, _) => SynchronousCommitAsync(connection, null), CancellationToken.None);

        Assert.Equal("on", setting);
    }

    [PostgresFact]
    public async Task A_report_on_a_claim_the_database_lost_is_refused_after_another_worker_claimed_the_step_again()
    {
        var (first, _) = await EngineAsync();
        var (second, _) = await EngineAsync();
        var task = await CreatedAsync(first);
        await TestSql.ExecuteAsync(Schema, "CREATE TABLE lost_task AS SELECT * FROM tasker_tasks WHERE task_uuid = $1", task);
        await TestSql.ExecuteAsync(Schema, "CREATE TABLE lost_steps AS SELECT * FROM tasker_workflow_steps WHERE task_uuid = $1", task);
        var lost = Assert.Single((await first.ClaimStepsAsync(task, new ClaimOptions(WorkerId: "first"))).Claims);

        await ForgetTheClaimAsync(task); // as a crash before its flush would: the rows as they were, its audit rows gone
        var again = Assert.Single((await second.ClaimStepsAsync(task, new ClaimOptions(WorkerId: "second"))).Claims);

        // The same row version as the lost claim's (the first engine still holds its copy), but not the same write.
        var refused = await Assert.ThrowsAsync<TaskerException>(async () =>
            await first.CompleteStepAsync(task, lost.StepUuid, lost.ClaimToken, JsonValues.EmptyObject));
        Assert.Equal(TaskerErrorCode.StaleClaim, refused.Code);
        Assert.Equal((again.ClaimToken, "in_progress"), (
            await TestSql.ScalarAsync<string>(Schema, "SELECT claim_token FROM tasker_workflow_steps WHERE task_uuid = $1", task),
            await TestSql.ScalarAsync<string>(Schema, "SELECT state FROM tasker_workflow_steps WHERE task_uuid = $1", task)));
    }

    private async Task ForgetTheClaimAsync(Guid task)
    {
        await TestSql.ExecuteAsync(Schema, """
            UPDATE tasker_tasks k SET (state, updated_at, transition_count, last_write_uuid, row_version, claimable_at, work_mask,
                    work_mask_version)
                = (o.state, o.updated_at, o.transition_count, o.last_write_uuid, o.row_version, o.claimable_at, o.work_mask,
                   o.work_mask_version)
            FROM lost_task o WHERE k.task_uuid = o.task_uuid
            """);
        await TestSql.ExecuteAsync(Schema, """
            UPDATE tasker_workflow_steps s SET (state, attempts, claim_token, lease_expires_at, claimed_by, started_at)
                = (o.state, o.attempts, o.claim_token, o.lease_expires_at, o.claimed_by, o.started_at)
            FROM lost_steps o WHERE s.step_uuid = o.step_uuid
            """);
        await TestSql.ExecuteAsync(Schema, "DELETE FROM tasker_task_transitions WHERE task_uuid = $1 AND ordinal > (SELECT transition_count FROM lost_task)", task);
        await TestSql.ExecuteAsync(Schema, "DELETE FROM tasker_workflow_step_transitions WHERE task_uuid = $1 AND ordinal > (SELECT transition_count FROM lost_task)", task);
    }

    private static async ValueTask<string> SynchronousCommitAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        await using var show = new NpgsqlCommand("SHOW synchronous_commit", connection, transaction);
        return (string)(await show.ExecuteScalarAsync())!;
    }

    private static async Task<Guid> CreatedAsync(TaskerEngine engine)
    {
        await engine.RegisterTemplateAsync(One);
        return await CreateAsync(engine, One);
    }
}
