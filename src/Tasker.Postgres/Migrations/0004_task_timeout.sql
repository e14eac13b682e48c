-- Tasker schema, version 4: the template's task-level timeout_seconds, copied onto each task when it is created
-- (like every other definition value), so the engine can move a task past created_at + timeout to error.
-- NULL means no limit. A nullable column without a default rewrites nothing.

ALTER TABLE tasker_tasks ADD COLUMN timeout_seconds integer;
