-- Tasker schema, version 11: creating a task runs no foreign-key checks (issue 13).
-- A task's steps and edges are written by the statement that writes the task (TaskSql.Create) and are never deleted
-- apart from it, so they cannot point at a missing task or step. Their foreign keys checked each row against its
-- parent anyway: a lookup and a row lock for each step (its task) and two for each edge (its steps), 25 for a 7-step
-- task with 9 edges, and one more for the template (every create locked the template's row FOR KEY SHARE, so the
-- creates of one template shared that lock through multixacts).
-- Worse, the store plans each statement once per connection (DataSourceFactory forces generic plans), key checks
-- included: a connection whose first create met nearly empty tables kept a sequential scan for every check until
-- autovacuum's next ANALYZE of them. Measured (one client, the 7-step template, a new schema): a create took 4.4 ms
-- over the first 250 tasks and 14.6 ms after 1,750, each edge's checks reading the whole step table.
-- Deleting tasks (prune, or any DELETE) still deletes their steps and edges, by the statement trigger that deletes
-- their audit trail. tasks.named_task_uuid stays as it was written (nothing reads it but the create).

ALTER TABLE tasker_workflow_step_edges DROP CONSTRAINT tasker_workflow_step_edges_to_step_uuid_fkey;
ALTER TABLE tasker_workflow_step_edges DROP CONSTRAINT tasker_workflow_step_edges_from_step_uuid_fkey;
ALTER TABLE tasker_workflow_steps DROP CONSTRAINT tasker_workflow_steps_task_uuid_fkey;
ALTER TABLE tasker_tasks DROP CONSTRAINT tasker_tasks_named_task_uuid_fkey;
-- Served only the cascade from a step to the edges leaving it; nothing looks edges up by from_step_uuid.
DROP INDEX tasker_workflow_step_edges_from_idx;

-- One trigger deletes everything of a task the foreign keys used to (the audit trail's since version 8).
DROP TRIGGER tasker_tasks_delete_history ON tasker_tasks;
DROP FUNCTION tasker_delete_task_history();

-- search_path is fixed to this schema's at creation: a DELETE from any session finds the tables beside it.
CREATE FUNCTION tasker_delete_task_rows() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM tasker_task_transitions h USING deleted_tasks d WHERE h.task_uuid = d.task_uuid;
    DELETE FROM tasker_workflow_step_transitions h USING deleted_tasks d WHERE h.task_uuid = d.task_uuid;
    DELETE FROM tasker_workflow_step_edges e USING deleted_tasks d WHERE e.task_uuid = d.task_uuid;
    DELETE FROM tasker_workflow_steps s USING deleted_tasks d WHERE s.task_uuid = d.task_uuid;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasker_tasks_delete_rows
    AFTER DELETE ON tasker_tasks REFERENCING OLD TABLE AS deleted_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION tasker_delete_task_rows();
