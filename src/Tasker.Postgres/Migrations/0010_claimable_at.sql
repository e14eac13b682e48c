-- Tasker schema, version 10: a work claim's find starts at claimable work (issue 13).
-- Up to version 9 the find (WorkSql.ClaimReadyTasks) walked every unfinished task in order of work and checked each
-- one's steps. A task a worker is running has no step to claim but is still unfinished, so every find walked past
-- all of them: 128 tasks, about 3.4 ms a find, with two workers of 64 slots each.
-- claimable_at is when a worker may next claim a step of the task, whatever its handler (WorkflowTask.ClaimableAt,
-- written with every task write): the task's creation when a step is ready now, a retry's time, an in-flight step's
-- lease expiry; the earliest of these, NULL when there is none. The find walks the new index up to now, so a task
-- whose steps are all running sits beyond the walk until its leases expire. The find still checks every task's steps
-- itself: the column only decides where to look.
-- A task write that changes claimable_at (a claim, a completion that makes children ready) is no longer a HOT
-- update: that is the price of a find that does not grow with the work in flight.

ALTER TABLE tasker_tasks ADD COLUMN claimable_at timestamptz;

-- The rules of the find, applied to the tasks already here (steps ready now count from the task's creation).
UPDATE tasker_tasks t SET claimable_at = c.at
FROM (
    SELECT s.task_uuid,
           min(CASE WHEN s.state = 'in_progress' THEN s.lease_expires_at
                    WHEN s.state = 'waiting_for_retry' AND s.next_retry_at > k.created_at THEN s.next_retry_at
                    ELSE k.created_at END) AS at
    FROM tasker_workflow_steps s
    JOIN tasker_tasks k ON k.task_uuid = s.task_uuid
    WHERE k.finished_state IS NULL
      AND (s.state = 'in_progress'
        OR (s.state IN ('pending', 'waiting_for_retry')
          AND s.attempts < s.max_attempts
          AND NOT EXISTS (
            SELECT 1 FROM tasker_workflow_step_edges e
            JOIN tasker_workflow_steps p ON p.step_uuid = e.from_step_uuid
            WHERE e.to_step_uuid = s.step_uuid AND p.state NOT IN ('complete', 'resolved_manually'))))
    GROUP BY s.task_uuid
) c
WHERE t.task_uuid = c.task_uuid;

-- Rows inserted without it, by a process still on an older library during a rolling upgrade, are found first rather
-- than never (their claim then writes the real value). Older processes' updates leave it as it was: at worst a step
-- they make ready is found when the lease another process's claim wrote expires.
ALTER TABLE tasker_tasks ALTER COLUMN claimable_at SET DEFAULT '-infinity';

CREATE INDEX tasker_tasks_claimable_idx ON tasker_tasks ((-(priority::bigint)), claimable_at, task_uuid)
    WHERE finished_state IS NULL AND claimable_at IS NOT NULL;
