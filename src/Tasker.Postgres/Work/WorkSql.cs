namespace Tasker.Postgres.Work;

/// <summary>The statements of worker mode (claims across tasks), each with its parameters documented.</summary>
internal static class WorkSql
{

    /// <summary>
    /// Tasks with a step ready now for one of $1 (handlers): pending or due for retry, attempts left, every parent
    /// complete or resolved; or in progress with its lease expired (the claim expires it and takes it over); the task
    /// unfinished; $2 the namespaces (NULL: all), $3 now, $4 how many tasks, $5 tasks to leave out (handed to another
    /// caller in this process a moment ago). Highest priority first, then oldest.
    /// <para>
    /// <c>walk</c> steps through tasker_tasks_unfinished_idx one entry at a time (each step a LIMIT 1 index probe
    /// past the previous entry), lazily: <c>found</c> stops pulling at the $4-th task with a ready step (see migrations
    /// 6 and 7). The probe has no filter but the index's own predicate, so a LIMIT 1 index scan is always the cheapest plan
    /// for it whatever the statistics say; a namespace filter inside it made the generic plan's guess of its
    /// selectivity choose a bitmap scan of every queued task and a sort, per probe. No index on step state: it would make
    /// every step write a non-HOT update; each walked task's steps come through their (task_uuid, step_index) key.
    /// </para>
    /// <para>
    /// Each found task comes back as <see cref="Sql.TaskSql.Load"/> returns it (plus its uuid and priority), from the
    /// same snapshot: the claim that follows starts from it instead of loading the task again. The row is fetched by
    /// key in a LATERAL (a plain join back let the generic plan hash-join a scan of every task).
    /// </para>
    /// </summary>
    public const string FindReadyTasks = $"""
        WITH RECURSIVE walk AS (
            (SELECT t.task_uuid, -(t.priority::bigint) AS rank, t.created_at, t.namespace
             FROM tasker_tasks t
             WHERE t.finished_state IS NULL
             ORDER BY -(t.priority::bigint), t.created_at, t.task_uuid
             LIMIT 1)
            UNION ALL
            (SELECT n.task_uuid, n.rank, n.created_at, n.namespace
             FROM walk w
             CROSS JOIN LATERAL (
                 SELECT t.task_uuid, -(t.priority::bigint) AS rank, t.created_at, t.namespace
                 FROM tasker_tasks t
                 WHERE t.finished_state IS NULL
                   AND (-(t.priority::bigint), t.created_at, t.task_uuid) > (w.rank, w.created_at, w.task_uuid)
                 ORDER BY -(t.priority::bigint), t.created_at, t.task_uuid
                 LIMIT 1) n)
        ), found AS MATERIALIZED (
            SELECT w.task_uuid, w.rank, w.created_at
            FROM walk w
            WHERE ($2::text[] IS NULL OR w.namespace = ANY($2))
              AND w.task_uuid <> ALL($5)
              AND EXISTS (
                SELECT 1 FROM tasker_workflow_steps s
                WHERE s.task_uuid = w.task_uuid
                  AND s.handler = ANY($1)
                  AND ((s.state = 'in_progress' AND s.lease_expires_at <= $3)
                    OR ((s.state = 'pending' OR (s.state = 'waiting_for_retry' AND (s.next_retry_at IS NULL OR s.next_retry_at <= $3)))
                      AND s.attempts < s.max_attempts
                      AND NOT EXISTS (
                        SELECT 1 FROM tasker_workflow_step_edges e
                        JOIN tasker_workflow_steps p ON p.step_uuid = e.from_step_uuid
                        WHERE e.to_step_uuid = s.step_uuid AND p.state NOT IN ('complete', 'resolved_manually')))))
            LIMIT $4)
        SELECT {Sql.TaskSql.LoadColumns}, t.task_uuid, t.priority
        FROM found f
        CROSS JOIN LATERAL (SELECT * FROM tasker_tasks k WHERE k.task_uuid = f.task_uuid) t
        CROSS JOIN LATERAL ({Sql.TaskSql.LoadStepArrays}) s
        ORDER BY f.rank, f.created_at, f.task_uuid
        """;

    /// <summary>The ordinal of the task uuid in <see cref="FindReadyTasks"/>'s rows (after the load columns).</summary>
    public const int FoundTaskUuid = 37;

    /// <summary>The ordinal of the task priority in <see cref="FindReadyTasks"/>'s rows.</summary>
    public const int FoundPriority = 38;

    /// <summary>$1: the channel (<see cref="WorkChannel"/>).</summary>
    public const string Announce = "SELECT pg_notify($1, '')";
}
