-- Tasker schema, version 3: when the host asked for the task (tasker_task_create's "requested_at", Rails Tasker's
-- TaskRequest#requested_at), which may be earlier than created_at for a request that waited in a queue. NULL for
-- tasks created before this version: readers fall back to created_at.
-- Adding a nullable column without a default rewrites nothing: instant on a table of any size.

ALTER TABLE tasker_tasks ADD COLUMN requested_at timestamptz;
