-- Tasker schema, version 5: worker mode's order of work (issue 13). A worker's claim across tasks walks the
-- unfinished tasks highest priority first, then oldest first, and stops at the first few with a ready step of its
-- handlers; without this index every such claim sorted all unfinished tasks (30 ms at 2,000 queued tasks, growing
-- with the queue). Partial: finished tasks, the bulk of the table, are not in it. Its columns never change after a
-- task is created, and its predicate only on a state change (which already updates tasker_tasks_state_created_idx),
-- so task writes that keep the state stay HOT.

CREATE INDEX tasker_tasks_work_order_idx ON tasker_tasks (priority DESC, created_at, task_uuid)
    WHERE state IN ('pending', 'in_progress', 'waiting_for_retry');
