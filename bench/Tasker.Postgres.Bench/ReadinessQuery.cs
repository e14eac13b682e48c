namespace Tasker.Postgres.Bench;

/// <summary>
/// The ready-step computation written as SQL over the store's own tables, for comparison with the engine's
/// in-memory readiness: a step is ready when it is pending (or waiting for retry with its time passed), has
/// attempts left, and none of its parents is unsatisfied (not complete / resolved_manually).
/// </summary>
internal static class ReadinessQuery
{
    public const string Sql = """
        SELECT s.step_index
        FROM tasker_workflow_steps s
        WHERE s.task_uuid = $1
          AND (s.state = 'pending' OR (s.state = 'waiting_for_retry' AND (s.next_retry_at IS NULL OR s.next_retry_at <= $2)))
          AND s.attempts < s.max_attempts
          AND NOT EXISTS (
                SELECT 1
                FROM tasker_workflow_step_edges e
                JOIN tasker_workflow_steps p ON p.step_uuid = e.from_step_uuid
                WHERE e.to_step_uuid = s.step_uuid
                  AND p.state NOT IN ('complete', 'resolved_manually'))
        ORDER BY s.step_index
        """;
}
