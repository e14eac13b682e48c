using Npgsql;
using NpgsqlTypes;
using Tasker.Core;
using Tasker.Postgres.Migrations;
using Tasker.Postgres.Tests.Support;
using Tasker.Postgres.Work;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// A work claim's find walks only the tasks whose definition (their steps, handlers included) names one of its
/// handlers (migration 12): one stretch of the walk index per such definition, merged in order of work. The table of
/// which handlers each definition names is written by the library's create (migration 14) and, for a task any other
/// statement inserts (an older library's), by a trigger on the task's insert. Within a
/// stretch, the walk passes over tasks whose claimable steps name none of its handlers without reading their steps
/// (<c>work_mask</c>, migration 13).
/// </summary>
public sealed class DefinitionWalkTests : PostgresTest
{
    private static readonly string Chain = PgWorkflows.Yaml("chain", ("first", []), ("second", ["first"]));
    private static readonly string Single = PgWorkflows.Yaml("single", ("first", []));
    private static readonly string Other = PgWorkflows.Yaml("other", ("only", []));
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private static WorkClaimOptions Work(params string[] handlers) =>
        new(new HashSet<string>(handlers, StringComparer.Ordinal), 1, Lease, "w", null, TimeSpan.Zero);

    [PostgresFact]
    public async Task A_claim_for_one_handler_reads_no_task_queued_for_another()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Other);
        await engine.RegisterTemplateAsync(Chain);
        for (var i = 0; i < 200; i++) await CreateAsync(engine, Other);
        var mine = await CreateAsync(engine, Chain);

        var (found, rowsRead) = await FindAsync(["first_handler"], "tasker_tasks");

        Assert.Equal([mine], found);
        Assert.InRange(rowsRead.ByIndex + rowsRead.BySeqScan, 1, 4); // the task found (the walk's probe, the hold, the load), none of the 200 others
    }

    [PostgresFact]
    public async Task Work_of_several_definitions_is_claimed_by_priority_then_age_across_them()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        await engine.RegisterTemplateAsync(Single);
        var oldest = await CreateAtAsync(engine, Chain, at: TimeSpan.FromSeconds(1));
        var second = await CreateAtAsync(engine, Single, at: TimeSpan.FromSeconds(1));
        var third = await CreateAtAsync(engine, Chain, at: TimeSpan.FromSeconds(1));
        var urgent = await CreateAtAsync(engine, Single, at: TimeSpan.FromSeconds(1), priority: 5);
        var rest = await CreateAtAsync(engine, Single, at: TimeSpan.FromSeconds(1));

        var order = new List<Guid>();
        for (var i = 0; i < 5; i++)
            order.Add(Assert.Single(await engine.ClaimWorkAsync(Work("first_handler"))).TaskUuid);

        Assert.Equal([urgent, oldest, second, third, rest], order);
        Assert.Empty(await engine.ClaimWorkAsync(Work("first_handler")));
    }

    [PostgresFact]
    public async Task One_claim_takes_the_work_of_several_definitions_in_order()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        await engine.RegisterTemplateAsync(Single);
        var oldest = await CreateAtAsync(engine, Chain, at: TimeSpan.FromSeconds(1));
        var second = await CreateAtAsync(engine, Single, at: TimeSpan.FromSeconds(1));
        var third = await CreateAtAsync(engine, Single, at: TimeSpan.FromSeconds(1));
        var fourth = await CreateAtAsync(engine, Chain, at: TimeSpan.FromSeconds(1));

        var claims = await engine.ClaimWorkAsync(Work("first_handler") with { MaxSteps = 3 });

        Assert.Equal([oldest, second, third], claims.Select(c => c.TaskUuid));
        Assert.Equal(fourth, Assert.Single(await engine.ClaimWorkAsync(Work("first_handler") with { MaxSteps = 3 })).TaskUuid);
    }

    [PostgresFact]
    public async Task A_definition_is_recorded_with_each_handler_its_steps_name_when_its_first_task_is_created()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        await engine.RegisterTemplateAsync(Other);
        await CreateAsync(engine, Chain);
        await CreateAsync(engine, Chain);
        await CreateAsync(engine, Other);

        var rows = await RecordedAsync();

        Assert.Equal(["first_handler", "only_handler", "second_handler"], rows.Select(r => r.Handler).Order());
        Assert.Equal(2, rows.Select(r => r.Definition).Distinct().Count());
        Assert.Equal(await DefinitionAsync("chain"), rows.Single(r => r.Handler == "second_handler").Definition);
    }

    [PostgresFact]
    public async Task A_create_records_its_definition_in_its_own_statement_without_the_insert_trigger()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        await TestSql.ExecuteAsync(Schema, "ALTER TABLE tasker_tasks DISABLE TRIGGER tasker_tasks_note_definition");

        var task = await CreateAsync(engine, Chain);

        Assert.Equal(["first_handler", "second_handler"], (await RecordedAsync()).Select(r => r.Handler));
        Assert.Equal(task, Assert.Single(await engine.ClaimWorkAsync(Work("first_handler"))).TaskUuid);
    }

    [PostgresFact]
    public async Task A_process_creates_tasks_of_a_definition_another_process_recorded_first()
    {
        var (first, _) = await EngineAsync(Clock);
        var (second, _) = await EngineAsync(Clock);
        await first.RegisterTemplateAsync(Chain);

        await CreateAsync(first, Chain);
        await CreateAsync(second, Chain);

        Assert.Equal(["first_handler", "second_handler"], (await RecordedAsync()).Select(r => r.Handler));
    }

    [PostgresFact]
    public async Task A_definition_recorded_in_a_host_transaction_that_rolled_back_is_recorded_by_the_next_create()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        using (new System.Transactions.TransactionScope(System.Transactions.TransactionScopeAsyncFlowOption.Enabled))
            await CreateAsync(engine, Chain); // not completed: rolled back

        var task = await CreateAsync(engine, Chain);

        Assert.Equal(["first_handler", "second_handler"], (await RecordedAsync()).Select(r => r.Handler));
        Assert.Equal(task, Assert.Single(await engine.ClaimWorkAsync(Work("first_handler"))).TaskUuid);
    }

    [PostgresFact]
    public async Task A_definition_recorded_in_a_host_transaction_that_committed_is_not_recorded_again()
    {
        // As below: the deletion only makes visible that the next create does not insert the rows.
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        using (var scope = new System.Transactions.TransactionScope(System.Transactions.TransactionScopeAsyncFlowOption.Enabled))
        {
            await CreateAsync(engine, Chain);
            scope.Complete();
        }
        await TestSql.ExecuteAsync(Schema, "DELETE FROM tasker_definition_handlers");

        await CreateAsync(engine, Chain);

        Assert.Empty(await RecordedAsync());
    }

    [PostgresFact]
    public async Task A_process_records_a_definition_with_its_first_task_and_not_again()
    {
        // Recorded rows are never deleted, so a process that created a task of a definition knows it is there; the
        // deletion here only makes visible that later creates neither insert the rows nor run the trigger.
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        await CreateAsync(engine, Chain);
        await TestSql.ExecuteAsync(Schema, "DELETE FROM tasker_definition_handlers");

        await CreateAsync(engine, Chain);

        Assert.Empty(await RecordedAsync());
    }

    [PostgresFact]
    public async Task A_task_inserted_by_any_statement_has_its_definition_recorded_and_its_work_found()
    {
        // What a process on an older library does: it inserts a task and its steps with a statement of its own (and no
        // work mask, migration 13).
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Single);
        var model = await CreateAsync(engine, Single);
        var older = Guid.NewGuid();

        await TestSql.ExecuteAsync(Schema, """
            WITH t AS (
                INSERT INTO tasker_tasks (task_uuid, namespace, name, version, state, context, definition_key, created_at, updated_at)
                SELECT $2, k.namespace, k.name, k.version, k.state, k.context, 'older', k.created_at, k.updated_at
                FROM tasker_tasks k WHERE k.task_uuid = $1
                RETURNING task_uuid)
            INSERT INTO tasker_workflow_steps (step_uuid, task_uuid, step_index, name, handler, retryable, max_attempts, state, attempts)
            SELECT gen_random_uuid(), t.task_uuid, 0, 'only', 'older_handler', false, 1, 'pending', 0 FROM t
            """, model, older);

        Assert.Contains(("older_handler", "older"), await RecordedAsync());
        Assert.Equal(older, Assert.Single(await engine.ClaimWorkAsync(Work("older_handler"))).TaskUuid);
    }

    [PostgresFact]
    public async Task Work_whose_definition_is_missing_is_found_once_the_migrations_fill_runs()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        var task = await CreateAsync(engine, Chain);
        await TestSql.ExecuteAsync(Schema, "DELETE FROM tasker_definition_handlers");
        Assert.Empty(await engine.ClaimWorkAsync(Work("first_handler")));

        await TestSql.ExecuteAsync(Schema, FillStatement());

        Assert.Equal(task, Assert.Single(await engine.ClaimWorkAsync(Work("first_handler"))).TaskUuid);
    }

    [PostgresFact]
    public async Task Migration_12_records_what_the_trigger_records_finished_tasks_included()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Single);
        await engine.RegisterTemplateAsync(Other);
        var finished = await CreateAsync(engine, Single);
        var claim = (await engine.ClaimStepsAsync(finished)).Claims.Single();
        await engine.CompleteStepAsync(finished, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);
        await CreateAsync(engine, Other);
        var written = await RecordedAsync();

        await TestSql.ExecuteAsync(Schema, "DELETE FROM tasker_definition_handlers");
        await TestSql.ExecuteAsync(Schema, FillStatement());

        Assert.Equal(written, await RecordedAsync());
        Assert.Equal(2, written.Count);
    }

    [PostgresFact]
    public async Task A_claim_reads_no_steps_of_the_tasks_whose_claimable_steps_are_another_handlers()
    {
        // One template, two languages: first_handler's workers and second_handler's share every task's walk stretch.
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        for (var i = 0; i < 200; i++) await CreateAsync(engine, Chain); // each waits for first_handler
        var mine = await CreateAsync(engine, Chain);
        var first = (await engine.ClaimStepsAsync(mine)).Claims.Single();
        await engine.CompleteStepAsync(mine, first.StepUuid, first.ClaimToken, JsonValues.EmptyObject);

        var (found, stepsRead) = await FindAsync(["second_handler"], "tasker_workflow_steps");
        var (control, stepsReadByAll) = await FindAsync(["second_handler"], "tasker_workflow_steps", mask: -1); // every row "maybe"

        Assert.Equal([mine], found);
        Assert.Equal([mine], control);
        // Steps read through their task's key: the found task's (its ready check, its load), none of the 200 others'; the
        // control reads theirs, two each. (On tables this small the plan checks parents with one sequential scan of all
        // steps, the same in both: not per task walked.)
        Assert.InRange(stepsRead.ByIndex, 1, 6);
        Assert.True(stepsReadByAll.ByIndex >= stepsRead.ByIndex + 400, $"{stepsReadByAll.ByIndex} step rows read with every row a maybe");
    }

    [PostgresFact]
    public async Task Every_write_records_the_handlers_of_the_steps_a_claim_could_take()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        var task = await CreateAsync(engine, Chain);
        var created = await MaskAsync(task);
        var first = (await engine.ClaimStepsAsync(task)).Claims.Single();
        var claimed = await MaskAsync(task); // a running step's lease may expire: still first_handler's
        await engine.CompleteStepAsync(task, first.StepUuid, first.ClaimToken, JsonValues.EmptyObject);
        var completed = await MaskAsync(task);

        Assert.Equal((HandlerMask.Of(["first_handler"]), 0L, 0L), created);
        Assert.Equal((HandlerMask.Of(["first_handler"]), 1L, 1L), claimed);
        Assert.Equal((HandlerMask.Of(["second_handler"]), 2L, 2L), completed);
    }

    [PostgresFact]
    public async Task A_task_whose_mask_lacks_the_claimers_handlers_is_passed_over()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        var task = await CreateAsync(engine, Chain);

        await TestSql.ExecuteAsync(Schema, "UPDATE tasker_tasks SET work_mask = 0 WHERE task_uuid = $1", task);

        Assert.Empty(await engine.ClaimWorkAsync(Work("first_handler")));
    }

    [PostgresFact]
    public async Task A_write_by_an_older_library_leaves_the_task_to_every_claimer()
    {
        // An older library writes the row without its mask: the row version moves past the mask's.
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Chain);
        var task = await CreateAsync(engine, Chain);

        await TestSql.ExecuteAsync(Schema, "UPDATE tasker_tasks SET work_mask = 0, row_version = row_version + 1 WHERE task_uuid = $1", task);

        Assert.Equal(task, Assert.Single(await engine.ClaimWorkAsync(Work("first_handler"))).TaskUuid);
    }

    /// <summary>
    /// The find itself, as the store runs it (generic plan), in a transaction of its own: the tasks it found, and the rows
    /// of <paramref name="table"/> it read through indexes and by sequential scans (pg_stat_xact_user_tables counts them
    /// for the transaction). <paramref name="mask"/> replaces the claimer's handler mask.
    /// </summary>
    private async Task<(List<Guid> Found, (long ByIndex, long BySeqScan) RowsRead)> FindAsync(string[] handlers, string table, long? mask = null)
    {
        await using var connection = await TestSql.OpenAsync(Schema);
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var generic = new NpgsqlCommand(WorkSql.GenericPlan, connection, transaction))
            await generic.ExecuteNonQueryAsync();
        var found = new List<Guid>();
        await using (var find = new NpgsqlCommand(WorkSql.ClaimReadyTasks, connection, transaction))
        {
            find.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = handlers });
            find.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = DBNull.Value });
            find.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = Clock.GetUtcNow().UtcDateTime });
            find.Parameters.Add(new NpgsqlParameter<int> { TypedValue = 8 });
            find.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = Clock.GetUtcNow().UtcDateTime });
            find.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = DBNull.Value });
            find.Parameters.Add(new NpgsqlParameter<long> { TypedValue = mask ?? HandlerMask.Of(handlers) });
            await using var reader = await find.ExecuteReaderAsync();
            while (await reader.ReadAsync()) found.Add(reader.GetGuid(WorkSql.FoundTaskUuid));
        }
        await using var read = new NpgsqlCommand(
            "SELECT coalesce(idx_tup_fetch, 0), coalesce(seq_tup_read, 0) FROM pg_stat_xact_user_tables WHERE relid = $1::regclass",
            connection, transaction);
        read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
        await using var counts = await read.ExecuteReaderAsync();
        await counts.ReadAsync();
        return (found, (counts.GetInt64(0), counts.GetInt64(1)));
    }

    private async Task<(long Mask, long MaskVersion, long RowVersion)> MaskAsync(Guid task)
    {
        var row = (await TestSql.RowsAsync(Schema, "SELECT work_mask, work_mask_version, row_version FROM tasker_tasks WHERE task_uuid = $1", task)).Single();
        return ((long)row[0]!, (long)row[1]!, (long)row[2]!);
    }

    private async Task<Guid> CreateAtAsync(TaskerEngine engine, string template, TimeSpan at, int priority = 0)
    {
        Clock.Advance(at);
        var created = await engine.CreateTaskAsync(new TaskRequest
        {
            Namespace = "pg", Name = TemplateName(template), Initiator = "test", Priority = priority,
        });
        return created.Task.TaskUuid;
    }

    private async Task<List<(string Handler, string Definition)>> RecordedAsync() =>
        (await TestSql.RowsAsync(Schema, "SELECT handler, definition_key FROM tasker_definition_handlers ORDER BY 1, 2"))
        .Select(r => ((string)r[0]!, (string)r[1]!)).ToList();

    private async Task<string> DefinitionAsync(string template) =>
        await TestSql.ScalarAsync<string>(Schema, "SELECT definition_key FROM tasker_tasks WHERE name = $1 LIMIT 1", template);

    /// <summary>The migration's fill of the definitions already there, as shipped.</summary>
    private static string FillStatement()
    {
        var sql = Migrator.Scripts.Single(s => s.Version == 12).Sql;
        var start = sql.IndexOf("INSERT INTO tasker_definition_handlers (handler, definition_key)\nSELECT DISTINCT s.handler, t.definition_key",
            StringComparison.Ordinal);
        return sql[start..(sql.IndexOf(';', start) + 1)];
    }
}
