using Xunit;

namespace Tasker.Postgres.Tests.Support;

/// <summary>
/// Checks the stored audit trail of every task in a schema against the stored state: the history is gap-free, each
/// step ran exactly once per attempt (one move into in_progress per counted attempt, one outcome per attempt, one
/// completion), and each task finished exactly once.
/// </summary>
public static class AuditTrail
{
    public static async Task AssertConsistentAsync(string schema, int expectedTasks)
    {
        var tasks = await TestSql.RowsAsync(schema, "SELECT task_uuid, state, transition_count FROM tasker_tasks");
        Assert.Equal(expectedTasks, tasks.Count);
        Assert.All(tasks, t => Assert.Equal("complete", t[1]));

        // Ordinals 1..transition_count with no gap or duplicate, across both history tables.
        var gaps = await TestSql.ScalarAsync<int>(schema, """
            SELECT count(*)::int FROM tasker_tasks t
            WHERE t.transition_count <> (SELECT count(*) FROM tasker_task_transitions x WHERE x.task_uuid = t.task_uuid)
                                      + (SELECT count(*) FROM tasker_workflow_step_transitions x WHERE x.task_uuid = t.task_uuid)
               OR t.transition_count <> (SELECT coalesce(max(o), 0) FROM (
                    SELECT ordinal AS o FROM tasker_task_transitions x WHERE x.task_uuid = t.task_uuid
                    UNION ALL SELECT ordinal FROM tasker_workflow_step_transitions x WHERE x.task_uuid = t.task_uuid) m)
            """);
        Assert.Equal(0, gaps);

        var finals = await TestSql.ScalarAsync<int>(schema,
            "SELECT count(*)::int FROM tasker_task_transitions WHERE to_state IN ('complete', 'error', 'cancelled', 'resolved_manually')");
        Assert.Equal(expectedTasks, finals);

        // Per step: attempts == moves into in_progress == outcomes of attempts; exactly one completion.
        var bad = await TestSql.RowsAsync(schema, """
            SELECT s.name, s.attempts, s.state,
                   count(*) FILTER (WHERE x.to_state = 'in_progress') AS started,
                   count(*) FILTER (WHERE x.from_state = 'in_progress') AS ended,
                   count(*) FILTER (WHERE x.to_state = 'complete') AS completed
            FROM tasker_workflow_steps s
            LEFT JOIN tasker_workflow_step_transitions x ON x.step_uuid = s.step_uuid
            GROUP BY s.step_uuid, s.name, s.attempts, s.state
            HAVING s.state <> 'complete'
                OR count(*) FILTER (WHERE x.to_state = 'in_progress') <> s.attempts
                OR count(*) FILTER (WHERE x.from_state = 'in_progress') <> s.attempts
                OR count(*) FILTER (WHERE x.to_state = 'complete') <> 1
            """);
        Assert.True(bad.Count == 0, "inconsistent steps: " + string.Join("; ", bad.Select(r => string.Join(",", r))));
    }
}
