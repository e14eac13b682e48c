-- Tasker schema, version 6: the worker find walks its order one index entry at a time (issue 13).
-- Version 5's index served `ORDER BY priority DESC, created_at, task_uuid LIMIT n`, but the planner chose between that
-- walk and a scan-and-sort of every unfinished task on its row estimates, and with stale statistics (a burst of tasks
-- before autovacuum's next analyze, every fresh install) the cached generic plan sorted the whole queue: 22 ms per
-- find at 2,000 queued tasks. This index has a single ascending order, so the find can step from one task to the next
-- with a row comparison (`(-priority, created_at, task_uuid) > (...)`, LIMIT 1), which has no sorting alternative.
-- Same partial predicate and immutable columns as before: state changes only, task writes that keep the state stay HOT.
-- The new index is built before the old one is dropped: the build blocks only writes to tasker_tasks, and the DROP's
-- exclusive lock is then held only for the rest of the migration's transaction, not for the whole build.

CREATE INDEX tasker_tasks_work_walk_idx ON tasker_tasks ((-(priority::bigint)), created_at, task_uuid)
    WHERE state IN ('pending', 'in_progress', 'waiting_for_retry');

DROP INDEX tasker_tasks_work_order_idx;
