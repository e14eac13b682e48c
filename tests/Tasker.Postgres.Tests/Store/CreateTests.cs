using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// What a create writes and what its process keeps of it. The create is one statement with only the parts its task
/// needs (<see cref="Sql.TaskSql.CreateParts"/>): edges for a DAG, step transitions for steps finished at creation.
/// </summary>
public sealed class CreateTests : PostgresTest
{
    private static readonly string Diamond = PgWorkflows.Yaml("diamond", ("top", []), ("left", ["top"]), ("right", ["top"]), ("bottom", ["left", "right"]));
    private static readonly string One = PgWorkflows.Yaml("one", ("only", []));

    private static readonly string Skippy = PgWorkflows.Skippable();

    /// <summary>Two steps, no edges; the first may be bypassed: step transitions without edges.</summary>
    private static readonly string Loose = PgWorkflows.Skippable(dependent: false);

    private Task<long> CountAsync(string table, Guid task) =>
        TestSql.ScalarAsync<long>(Schema, $"SELECT count(*) FROM {table} WHERE task_uuid = $1", task);

    [PostgresFact]
    public async Task A_DAG_is_created_with_each_of_its_edges()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Diamond);

        var task = await CreateAsync(engine, Diamond);

        var edges = await TestSql.RowsAsync(Schema, """
            SELECT p.name || '->' || c.name
            FROM tasker_workflow_step_edges e
            JOIN tasker_workflow_steps p ON p.step_uuid = e.from_step_uuid
            JOIN tasker_workflow_steps c ON c.step_uuid = e.to_step_uuid
            WHERE e.task_uuid = $1 ORDER BY 1
            """, task);
        Assert.Equal(["left->bottom", "right->bottom", "top->left", "top->right"], edges.Select(r => (string)r[0]!));
    }

    [PostgresFact]
    public async Task A_DAG_created_by_one_process_runs_in_order_in_another_that_reads_its_edges()
    {
        var (creator, _) = await EngineAsync(Clock);
        var (worker, _) = await EngineAsync(Clock);
        await creator.RegisterTemplateAsync(Diamond);
        var task = await CreateAsync(creator, Diamond);

        var first = await worker.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 4));

        Assert.Equal(["top"], first.Claims.Select(c => c.StepName));
    }

    /// <summary>
    /// Each of the create's variants, through the tasks that call for it: the first create of a template in a process
    /// records its definition, the second does not; edges for a DAG; step transitions for a bypassed step.
    /// </summary>
    [PostgresTheory]
    [InlineData("one", null, 1, 0, 0)]
    [InlineData("diamond", null, 4, 4, 0)]
    [InlineData("loose", "first", 2, 0, 2)]
    [InlineData("skippy", "first", 2, 1, 2)]
    public async Task Every_variant_of_the_create_writes_the_rows_its_task_has(string template, string? bypass, long steps, long edges,
        long stepTransitions)
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(template switch { "one" => One, "diamond" => Diamond, "loose" => Loose, _ => Skippy });
        var request = new TaskRequest { Namespace = "pg", Name = template, BypassSteps = bypass is null ? [] : [bypass] };

        var first = (await engine.CreateTaskAsync(request)).Task.TaskUuid; // records the definition
        var second = (await engine.CreateTaskAsync(request)).Task.TaskUuid; // does not

        foreach (var task in new[] { first, second })
        {
            Assert.Equal(steps, await CountAsync("tasker_workflow_steps", task));
            Assert.Equal(edges, await CountAsync("tasker_workflow_step_edges", task));
            Assert.Equal(stepTransitions, await CountAsync("tasker_workflow_step_transitions", task));
            Assert.Equal(1L, await CountAsync("tasker_task_transitions", task));
        }
    }

    [PostgresFact]
    public async Task A_step_bypassed_at_creation_has_its_transition_written_with_the_task()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(Skippy);

        var created = await engine.CreateTaskAsync(new TaskRequest { Namespace = "pg", Name = "skippy", BypassSteps = ["first"] });

        var rows = await TestSql.RowsAsync(Schema, """
            SELECT s.name, x.to_state, x.reason
            FROM tasker_workflow_step_transitions x JOIN tasker_workflow_steps s ON s.step_uuid = x.step_uuid
            WHERE x.task_uuid = $1 ORDER BY x.ordinal
            """, created.Task.TaskUuid);
        Assert.Equal([("first", "in_progress"), ("first", "complete")], rows.Select(r => ((string)r[0]!, (string)r[1]!)));
        Assert.All(rows, r => Assert.Equal("bypassed (bypass_steps)", r[2]));
    }

    [PostgresFact]
    public async Task A_task_created_in_a_host_transaction_that_rolled_back_leaves_no_copy_in_its_process()
    {
        var (engine, store) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(One);
        Guid rolledBack, committed;
        using (new System.Transactions.TransactionScope(System.Transactions.TransactionScopeAsyncFlowOption.Enabled))
            rolledBack = await CreateAsync(engine, One); // not completed: rolled back
        using (var scope = new System.Transactions.TransactionScope(System.Transactions.TransactionScopeAsyncFlowOption.Enabled))
        {
            committed = await CreateAsync(engine, One);
            scope.Complete();
        }

        Assert.False(store.CachedTasks.TryTake(rolledBack, out _));
        Assert.True(store.CachedTasks.TryTake(committed, out _));
    }
}
