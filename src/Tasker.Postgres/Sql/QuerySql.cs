namespace Tasker.Postgres.Sql;

/// <summary>Read-only queries: listings, the audit trail and stale work. Each is backed by an index (0001_initial.sql, 0007_hot_task_writes.sql).</summary>
internal static class QuerySql
{
    private const string ListColumns = """
        SELECT task_uuid AS TaskUuid, namespace AS Namespace, name AS Name, version AS Version, state AS State,
               created_at AS CreatedAt, updated_at AS UpdatedAt
        FROM tasker_tasks
        """;

    private const string ListFilters = """
          AND (@Namespace::text IS NULL OR namespace = @Namespace::text)
          AND (@Name::text IS NULL OR name = @Name::text)
          AND (@CreatedAfter::timestamptz IS NULL OR created_at > @CreatedAfter::timestamptz)
          AND (@CreatedBefore::timestamptz IS NULL OR created_at < @CreatedBefore::timestamptz)
        ORDER BY created_at DESC, task_uuid DESC
        LIMIT @Limit OFFSET @Offset
        """;

    /// <summary>
    /// Listings, newest first; each filter is optional (a null parameter disables it). Three statements by the state filter, so
    /// that each one's generic plan (the store forces those) walks an index: no state, the newest-first index;
    /// a finished state, the index of finished tasks by state; an unfinished state, the unfinished tasks (the queue,
    /// through the work walk's index) sorted (see migration 7). Each a constant: Dapper.AOT binds parameters per call site
    /// from the SQL text.
    /// </summary>
    public const string ListAnyState = $"""
        {ListColumns}
        WHERE @State::text IS NULL
        {ListFilters}
        """;

    /// <summary>A listing of tasks that finished in @State (see <see cref="ListAnyState"/>).</summary>
    public const string ListFinished = $"""
        {ListColumns}
        WHERE finished_state = @State::text
        {ListFilters}
        """;

    /// <summary>A listing of unfinished tasks in @State (see <see cref="ListAnyState"/>).</summary>
    public const string ListUnfinished = $"""
        {ListColumns}
        WHERE finished_state IS NULL AND state = @State::text
        {ListFilters}
        """;

    /// <summary>Task and step transitions merged into the one order they were made in (the per-task ordinal).</summary>
    public const string Transitions = """
        SELECT NULL::uuid AS StepUuid, NULL::text AS StepName, from_state AS FromState, to_state AS ToState, reason AS Reason,
               actor AS Actor, created_at AS At, NULL::integer AS Attempt, ordinal AS Ordinal
        FROM tasker_task_transitions
        WHERE task_uuid = @TaskUuid
        UNION ALL
        SELECT st.step_uuid, s.name, st.from_state, st.to_state, st.reason, st.actor, st.created_at, st.attempt, st.ordinal
        FROM tasker_workflow_step_transitions st
        JOIN tasker_workflow_steps s ON s.step_uuid = st.step_uuid
        WHERE st.task_uuid = @TaskUuid
        ORDER BY Ordinal
        """;

    /// <summary>
    /// Steps whose worker stopped heart-beating: in progress, lease passed. A step is only in progress while its task
    /// is, so the scan starts from the unfinished tasks (the work walk's index), not from all steps ever run. The engine's clock
    /// decides what "passed" means (@Now), not the database's, so tests with a manual clock see the same answer.
    /// </summary>
    public const string ExpiredLeases = """
        SELECT s.task_uuid AS TaskUuid, s.step_uuid AS StepUuid, s.name AS StepName, s.lease_expires_at AS LeaseExpiresAt
        FROM tasker_tasks t
        JOIN tasker_workflow_steps s ON s.task_uuid = t.task_uuid
        WHERE t.finished_state IS NULL AND t.state = 'in_progress' AND s.state = 'in_progress' AND s.lease_expires_at <= @Now
        ORDER BY s.lease_expires_at
        LIMIT @Limit
        """;

    /// <summary>
    /// Tasks parked in waiting_for_retry whose earliest retryable step is due. Like the memory store, only steps
    /// with attempts left count (their parents are already satisfied: they ran before).
    /// </summary>
    public const string RetriesDue = """
        SELECT t.task_uuid AS TaskUuid, min(s.next_retry_at) AS NextRetryAt
        FROM tasker_tasks t
        JOIN tasker_workflow_steps s ON s.task_uuid = t.task_uuid
        WHERE t.finished_state IS NULL AND t.state = 'waiting_for_retry' AND s.state = 'waiting_for_retry' AND s.next_retry_at <= @Now
          AND s.attempts < s.max_attempts
        GROUP BY t.task_uuid
        ORDER BY min(s.next_retry_at)
        LIMIT @Limit
        """;

    /// <summary>
    /// A step's parents are all finished the way that lets it run (complete, or resolved by hand): the readiness rule of
    /// every query that asks which steps could run, for the step aliased <c>s</c>.
    /// </summary>
    internal const string ParentsSatisfied = """
        NOT EXISTS (
                  SELECT 1 FROM tasker_workflow_step_edges e
                  JOIN tasker_workflow_steps p ON p.step_uuid = e.from_step_uuid
                  WHERE e.to_step_uuid = s.step_uuid AND p.state NOT IN ('complete', 'resolved_manually'))
        """;

    /// <summary>
    /// Ready steps nobody claimed since @ReadyBefore: pending (or waiting with their retry time passed), attempts left,
    /// every parent complete or resolved. A step became ready at the latest of: its task's creation, its parents
    /// finishing, its own last transition (an operator retry, an expired lease) and its retry time. Like the other
    /// stale-work queries it starts from the active tasks; the edge and transition lookups use their keys. A parent's
    /// finish is looked up by its key, one edge at a time: written as a join of edges and parents, the planner hashed
    /// the whole step table once for every step (5 s for 1,000 queued 7-step tasks, now 18 ms; engine.health runs this).
    /// </summary>
    public const string UnclaimedSteps = $"""
        SELECT s.task_uuid AS TaskUuid, s.step_uuid AS StepUuid, s.name AS StepName, s.handler AS Handler, r.ready_since AS ReadySince
        FROM tasker_tasks t
        JOIN tasker_workflow_steps s ON s.task_uuid = t.task_uuid
        CROSS JOIN LATERAL (
            SELECT GREATEST(
                t.created_at,
                (SELECT max((SELECT p.finished_at FROM tasker_workflow_steps p WHERE p.step_uuid = e.from_step_uuid))
                 FROM tasker_workflow_step_edges e WHERE e.to_step_uuid = s.step_uuid),
                (SELECT max(st.created_at) FROM tasker_workflow_step_transitions st
                 WHERE st.task_uuid = s.task_uuid AND st.step_uuid = s.step_uuid),
                CASE WHEN s.state = 'waiting_for_retry' THEN s.next_retry_at END) AS ready_since
        ) r
        WHERE t.finished_state IS NULL
          AND (s.state = 'pending' OR (s.state = 'waiting_for_retry' AND s.next_retry_at <= @Now))
          AND s.attempts < s.max_attempts
          AND {ParentsSatisfied}
          AND r.ready_since <= @ReadyBefore
        ORDER BY r.ready_since
        LIMIT @Limit
        """;

    /// <summary>
    /// Health's counts (<c>IStore.CountWorkAsync</c>) in one round trip, one row per handler with ready steps and one
    /// each for expired leases and due retries: the conditions of <see cref="UnclaimedSteps"/> (without its "ready
    /// since", which read each step's transitions), <see cref="ExpiredLeases"/> and <see cref="RetriesDue"/>, counted
    /// instead of listed, sorted and cut at a limit. Each unfinished task's steps are read through the task's key
    /// (<c>OFFSET 0</c> keeps the lateral from being flattened into a join): with the statistics of a fresh or bursty
    /// table (rows=12 for 5,000 tasks), the join was planned as a nested loop that compared every step with every task,
    /// 6.7 s at 5,000 queued 7-step tasks.
    /// </summary>
    public const string WorkCounts = $"""
        SELECT 'ready' AS Kind, r.handler AS Handler, count(*) AS Count
        FROM tasker_tasks t
        CROSS JOIN LATERAL (
            SELECT s.handler
            FROM tasker_workflow_steps s
            WHERE s.task_uuid = t.task_uuid
              AND (s.state = 'pending' OR (s.state = 'waiting_for_retry' AND s.next_retry_at <= @Now))
              AND s.attempts < s.max_attempts
              AND {ParentsSatisfied}
            OFFSET 0) r
        WHERE t.finished_state IS NULL
        GROUP BY r.handler
        UNION ALL
        SELECT 'expired_lease', NULL, count(*)
        FROM tasker_tasks t
        JOIN tasker_workflow_steps s ON s.task_uuid = t.task_uuid
        WHERE t.finished_state IS NULL AND t.state = 'in_progress' AND s.state = 'in_progress' AND s.lease_expires_at <= @Now
        UNION ALL
        SELECT 'retry_due', NULL, count(DISTINCT t.task_uuid)
        FROM tasker_tasks t
        JOIN tasker_workflow_steps s ON s.task_uuid = t.task_uuid
        WHERE t.finished_state IS NULL AND t.state = 'waiting_for_retry' AND s.state = 'waiting_for_retry' AND s.next_retry_at <= @Now
          AND s.attempts < s.max_attempts
        """;

    /// <summary>
    /// Tasks left pending (created, or retried or resolved by an operator) since @PendingBefore: nothing claimed a step
    /// since, so nobody is driving them. A pending task's updated_at is when it became pending. Unfinished tasks come
    /// through the work walk's index.
    /// </summary>
    public const string UndrivenTasks = """
        SELECT task_uuid AS TaskUuid, namespace AS Namespace, name AS Name, updated_at AS PendingSince
        FROM tasker_tasks
        WHERE finished_state IS NULL AND state = 'pending' AND updated_at <= @PendingBefore
        ORDER BY updated_at
        LIMIT @Limit
        """;

    /// <summary>
    /// Health counts: finished tasks by state (a scan of the index of finished tasks: proportional to all tasks, so
    /// poll it every few seconds, not per request); unfinished tasks by state, the oldest of them and their steps by
    /// state, from the queue (the work walk's index). The oldest comes from the same pass over the queue: asked as a
    /// min(created_at) of its own, the planner walked the newest-first index from its old end past every finished task.
    /// </summary>
    public const string Stats = """
        WITH unfinished AS MATERIALIZED (
            SELECT state, count(*) AS n, min(created_at) AS oldest
            FROM tasker_tasks WHERE finished_state IS NULL GROUP BY state)
        SELECT 'task' AS Kind, finished_state AS State, count(*) AS Count, NULL::timestamptz AS Oldest
        FROM tasker_tasks WHERE finished_state IS NOT NULL GROUP BY finished_state
        UNION ALL
        SELECT 'task', state, n, NULL FROM unfinished
        UNION ALL
        SELECT 'step', s.state, count(*), NULL
        FROM tasker_tasks t JOIN tasker_workflow_steps s ON s.task_uuid = t.task_uuid
        WHERE t.finished_state IS NULL
        GROUP BY s.state
        UNION ALL
        SELECT 'oldest', NULL, 0, min(oldest) FROM unfinished
        """;
}
