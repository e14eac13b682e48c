-- Tasker schema, version 7: a task's state changes on the hot path stop rewriting every index (issue 13).
-- PostgreSQL can update a row in place (a HOT update: no new index entries) only when no column any index refers to
-- (key, expression or predicate) changes. Up to version 6 three indexes of tasker_tasks referred to state (the state
-- listing and the work walk's predicate), so both state changes of a running task (pending -> in_progress -> complete)
-- added an entry to each of its six indexes. Now no index refers to state:
-- - finished_state is the state of a finished task and NULL while it is unfinished, derived by the database (it
--   cannot drift from state). pending -> in_progress -> waiting_for_retry -> in_progress keep it NULL, so those writes
--   are HOT; only finishing (and an operator's retry of a failed task) changes it.
-- - the work walk (migration 6) keeps its key and takes finished_state IS NULL as its predicate;
-- - one listing index of finished tasks by state replaces the state listing: it gets an entry once, when a task
--   finishes. Unfinished tasks are listed through the work walk's index (they are the queue, not the history);
-- - the listing by template goes: its filter walks the newest-first index (tasker_tasks_created_idx), and with the
--   generic plans the store runs, its optional filters never used that index anyway.
-- A running task's row is now in three indexes (key, newest first, work walk), a finished one in three (key, newest
-- first, finished by state), plus the identity index where a task has one.
-- Adding a stored generated column rewrites the table once (under an exclusive lock): prune finished tasks first on a
-- big installation (`tasker prune`). The new indexes are built before the old ones are dropped.

ALTER TABLE tasker_tasks ADD COLUMN finished_state text
    GENERATED ALWAYS AS (CASE WHEN state IN ('complete', 'error', 'cancelled', 'resolved_manually') THEN state END) STORED;

CREATE INDEX tasker_tasks_unfinished_idx ON tasker_tasks ((-(priority::bigint)), created_at, task_uuid)
    WHERE finished_state IS NULL;
CREATE INDEX tasker_tasks_finished_state_idx ON tasker_tasks (finished_state, created_at DESC, task_uuid DESC)
    WHERE finished_state IS NOT NULL;

DROP INDEX tasker_tasks_work_walk_idx;
DROP INDEX tasker_tasks_state_created_idx;
DROP INDEX tasker_tasks_name_created_idx;
