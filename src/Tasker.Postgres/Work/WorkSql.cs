namespace Tasker.Postgres.Work;

/// <summary>The statements of worker mode (claims across tasks), each with its parameters documented.</summary>
internal static class WorkSql
{
    /// <summary>The channel workers LISTEN on; one per database (a notification is only a hint to look).</summary>
    public const string Channel = "tasker_work";

    /// <summary>
    /// Tasks with a step ready now for one of $1 (handlers): pending or due for retry, attempts left, every parent
    /// complete or resolved; or in progress with its lease expired (the claim expires it and takes it over); the task
    /// unfinished; $2 the namespaces (NULL: all), $3 now, $4 how many tasks, $5 tasks
    /// to leave out (handed to another caller in this process a moment ago). Highest priority first, then oldest.
    /// It walks tasker_tasks_work_order_idx in that order and stops at the $4-th task with a ready step (the LATERAL
    /// ... LIMIT 1 keeps the planner from turning the step test into a semi-join over every step and a sort); each
    /// task's steps come through their (task_uuid, step_index) key. No index on step state: it would make every step
    /// write a non-HOT update.
    /// <para>
    /// Each found task comes back as <see cref="Sql.TaskSql.Load"/> returns it (plus its uuid and priority), from the same
    /// snapshot: the claim that follows starts from it instead of loading the task again.
    /// </para>
    /// </summary>
    public const string FindReadyTasks = $"""
        WITH found AS MATERIALIZED (
            SELECT t.task_uuid, t.priority, t.created_at
            FROM tasker_tasks t
            CROSS JOIN LATERAL (
                SELECT 1 FROM tasker_workflow_steps s
                WHERE s.task_uuid = t.task_uuid
                  AND s.handler = ANY($1)
                  AND ((s.state = 'in_progress' AND s.lease_expires_at <= $3)
                    OR ((s.state = 'pending' OR (s.state = 'waiting_for_retry' AND (s.next_retry_at IS NULL OR s.next_retry_at <= $3)))
                      AND s.attempts < s.max_attempts
                      AND NOT EXISTS (
                        SELECT 1 FROM tasker_workflow_step_edges e
                        JOIN tasker_workflow_steps p ON p.step_uuid = e.from_step_uuid
                        WHERE e.to_step_uuid = s.step_uuid AND p.state NOT IN ('complete', 'resolved_manually'))))
                LIMIT 1) ready
            WHERE t.state IN ('pending', 'in_progress', 'waiting_for_retry')
              AND ($2::text[] IS NULL OR t.namespace = ANY($2))
              AND t.task_uuid <> ALL($5)
            ORDER BY t.priority DESC, t.created_at, t.task_uuid
            LIMIT $4)
        SELECT {Sql.TaskSql.LoadColumns}, t.task_uuid, f.priority
        FROM found f
        JOIN tasker_tasks t ON t.task_uuid = f.task_uuid
        CROSS JOIN LATERAL ({Sql.TaskSql.LoadStepArrays}) s
        ORDER BY f.priority DESC, f.created_at, f.task_uuid
        """;

    /// <summary>The ordinal of the task uuid in <see cref="FindReadyTasks"/>'s rows (after the load columns).</summary>
    public const int FoundTaskUuid = 37;

    /// <summary>The ordinal of the task priority in <see cref="FindReadyTasks"/>'s rows.</summary>
    public const int FoundPriority = 38;

    public const string Announce = "SELECT pg_notify('" + Channel + "', '')";

    public const string Listen = "LISTEN " + Channel;
}
