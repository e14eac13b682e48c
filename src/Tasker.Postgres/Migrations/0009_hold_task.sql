-- Tasker schema, version 9: a worker's claim across tasks locks only tasks that are still as it found them (issue 13).
-- The claim's find (WorkSql.ClaimReadyTasks) walks the queue under its statement's snapshot and locks each task it
-- takes with FOR UPDATE SKIP LOCKED. A task another process claimed and committed after that snapshot was taken is
-- locked all the same (PostgreSQL follows the row to its newest version, takes the lock, and only then finds that
-- the row changed), and the lock is kept until the claim commits, although the claim passes the task over. The
-- other process's report of the step it just claimed then waits for that commit. This function takes the lock in a
-- statement of its own, which in READ COMMITTED sees what has committed up to now: a task whose row_version moved is
-- not locked at all.
CREATE FUNCTION tasker_hold_task(p_task_uuid uuid, p_row_version bigint) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM 1 FROM tasker_tasks WHERE task_uuid = p_task_uuid AND row_version = p_row_version FOR UPDATE SKIP LOCKED;
    RETURN FOUND;
END
$$;
