-- Tasker schema, version 2: the W3C trace context a task was created in (tasker_task_create's "traceparent"), so
-- the spans of its steps join the creator's trace whichever process runs them. NULL when none was given.
-- Adding a nullable column without a default rewrites nothing: instant on a table of any size.

ALTER TABLE tasker_tasks ADD COLUMN traceparent text;
