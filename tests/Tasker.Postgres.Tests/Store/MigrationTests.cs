using Tasker.Core;
using Tasker.Postgres.Migrations;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

public sealed class MigrationTests : PostgresTest
{
    private static readonly string[] Tables =
    [
        "tasker_definition_handlers", "tasker_named_steps", "tasker_named_tasks", "tasker_namespaces", "tasker_schema_migrations",
        "tasker_task_transitions", "tasker_tasks", "tasker_workflow_step_edges", "tasker_workflow_step_transitions", "tasker_workflow_steps",
    ];

    [PostgresFact]
    public async Task Migrating_creates_every_table_and_records_each_script_once_however_often_it_runs()
    {
        var store = await StoreAsync(o => new PostgresStoreOptions { ConnectionString = o.ConnectionString, Schema = o.Schema, MigrateOnOpen = false });
        await store.MigrateAsync(CancellationToken.None);
        await store.MigrateAsync(CancellationToken.None);
        await (await StoreAsync()).MigrateAsync(CancellationToken.None);

        var tables = (await TestSql.RowsAsync(null, "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", Schema))
            .Select(r => (string)r[0]!).ToArray();
        Assert.Equal(Tables, tables);
        var recorded = await TestSql.RowsAsync(Schema, "SELECT version, checksum FROM tasker_schema_migrations ORDER BY version");
        Assert.Equal(Migrator.Scripts.Select(s => (s.Version, s.Checksum)), recorded.Select(r => ((int)r[0]!, (string)r[1]!)));
    }

    [PostgresFact]
    public async Task Many_processes_migrating_a_new_schema_at_once_all_succeed_and_apply_each_script_once()
    {
        var options = await TestSchemas.NewStoreOptionsAsync(Schema);
        var stores = Enumerable.Range(0, 8).Select(_ => new PostgresStore(options)).ToArray();
        try
        {
            await StartGate.RaceAsync(stores.Length, n => stores[n].MigrateAsync(CancellationToken.None).AsTask());
        }
        finally
        {
            foreach (var store in stores) await store.DisposeAsync();
        }
        Assert.Equal(Migrator.Scripts.Count, await TestSql.ScalarAsync<int>(Schema, "SELECT count(*)::int FROM tasker_schema_migrations"));
    }

    [PostgresFact]
    public async Task A_shipped_migration_that_was_edited_afterwards_stops_the_migration()
    {
        var store = await StoreAsync();
        await TestSql.ExecuteAsync(Schema, "UPDATE tasker_schema_migrations SET checksum = 'edited' WHERE version = 1");

        var e = await Assert.ThrowsAsync<TaskerException>(() => store.MigrateAsync(CancellationToken.None).AsTask());
        Assert.Equal(TaskerErrorCode.Database, e.Code);
        Assert.Contains("migration 1 (initial)", e.Message, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task No_index_of_the_task_table_refers_to_a_column_that_changes_on_every_write()
    {
        await StoreAsync();
        // Key columns, expressions and predicates alike: any of them changing makes an update non-HOT (a new entry in
        // every index). These are the columns TaskSql.Write sets on every write (finished_state changes only when a
        // task finishes or is retried after an error; claimable_at only when what a worker may claim changes: a
        // claim, a completion that readies children, a failure, a heartbeat. That is the price of a work claim's
        // find that starts at claimable work, migration 10).
        var referenced = (await TestSql.RowsAsync(Schema, """
            SELECT DISTINCT a.attname::text
            FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum > 0
            WHERE i.indrelid = 'tasker_tasks'::regclass
              AND (a.attnum = ANY (i.indkey)
                OR coalesce(pg_get_expr(i.indexprs, i.indrelid), '') ~ ('\m' || a.attname || '\M')
                OR coalesce(pg_get_expr(i.indpred, i.indrelid), '') ~ ('\m' || a.attname || '\M'))
            ORDER BY 1
            """)).Select(r => (string)r[0]!).ToArray();

        Assert.Equal(["claimable_at", "created_at", "definition_key", "finished_state", "identity", "name", "namespace", "priority", "task_uuid"], referenced);
        Assert.Empty(referenced.Intersect(["state", "updated_at", "finished_at", "transition_count", "last_write_uuid", "row_version"]));
    }

    [PostgresFact]
    public async Task Deleting_tasks_deletes_their_steps_edges_and_audit_trail_and_nothing_else()
    {
        var (engine, _) = await EngineAsync();
        await engine.RegisterTemplateAsync(PgWorkflows.Mixed);
        var gone = new[] { await CreateAsync(engine, PgWorkflows.Mixed), await CreateAsync(engine, PgWorkflows.Mixed) };
        var kept = await CreateAsync(engine, PgWorkflows.Mixed);
        foreach (var task in gone.Append(kept))
            await engine.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 8));
        const string Rows = """
            SELECT (SELECT count(*) FROM tasker_task_transitions WHERE task_uuid = $1)
                 + (SELECT count(*) FROM tasker_workflow_step_transitions WHERE task_uuid = $1)
                 + (SELECT count(*) FROM tasker_workflow_steps WHERE task_uuid = $1)
                 + (SELECT count(*) FROM tasker_workflow_step_edges WHERE task_uuid = $1)
            """;
        var keptRows = await TestSql.ScalarAsync<long>(Schema, Rows, kept);
        Assert.True(keptRows > 7 + 9); // 7 steps, 9 edges, and transitions
        foreach (var task in gone)
            Assert.Equal(keptRows, await TestSql.ScalarAsync<long>(Schema, Rows, task));

        // Any DELETE of several tasks, from a session whose search_path does not reach the schema: these rows carry
        // no foreign key, a statement trigger follows it.
        await TestSql.ExecuteAsync(null, $"DELETE FROM \"{Schema}\".tasker_tasks WHERE task_uuid = ANY($1)", gone);

        foreach (var task in gone)
            Assert.Equal(0, await TestSql.ScalarAsync<long>(Schema, Rows, task));
        Assert.Equal(keptRows, await TestSql.ScalarAsync<long>(Schema, Rows, kept));
    }

    [PostgresFact]
    public async Task The_tables_a_task_create_writes_check_no_foreign_keys()
    {
        await StoreAsync();
        // Each key check is a lookup and a row lock per step and two per edge, planned once per connection: one that
        // first met empty tables scanned the whole table for every check (migration 11). Only templates keep theirs.
        var checkedTables = (await TestSql.RowsAsync(Schema, """
            SELECT DISTINCT conrelid::regclass::text FROM pg_constraint
            WHERE contype = 'f' AND connamespace = current_schema()::regnamespace ORDER BY 1
            """)).Select(r => (string)r[0]!).ToArray();

        Assert.Equal(["tasker_named_steps", "tasker_named_tasks"], checkedTables);
    }

    [PostgresFact]
    public async Task The_audit_trail_is_append_only()
    {
        var (engine, _) = await EngineAsync();
        await engine.RegisterTemplateAsync(PgWorkflows.Flat);
        await CreateAsync(engine, PgWorkflows.Flat);

        var e = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => TestSql.ExecuteAsync(Schema, "UPDATE tasker_task_transitions SET reason = 'rewritten'"));
        Assert.Contains("append-only", e.MessageText, StringComparison.Ordinal);
    }
}
