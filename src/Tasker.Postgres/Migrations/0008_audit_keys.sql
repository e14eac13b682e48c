-- Tasker schema, version 8: audit rows cost one index entry and no key check (issue 13).
-- Every task and step transition is a row of tasker_task_transitions or tasker_workflow_step_transitions, two to four
-- per step run. Each row used to add two b-tree entries (the transition_uuid key and the unique (task_uuid, ordinal))
-- and run a foreign-key check (a lookup and lock of its task row) that cost more server time than the insert itself.
-- - (task_uuid, ordinal) becomes the primary key: it is how the trail is read (a task's history in order), it keeps
--   ordinals unique, and it settles a write whose commit reply was lost (TaskSql.TransitionExists). The separate
--   transition_uuid b-tree goes. (The unique constraint's index cannot become the key in place: rebuilt once.)
-- - transition_uuid keeps a BRIN index for `tasker events` (TransitionFeed: rows after a UUIDv7 cursor). The rows are
--   appended in time order, so block ranges summarize them well; a range not summarized yet (the newest) costs
--   nothing on insert and is always read. autosummarize: these tables only get inserts, which trigger the
--   vacuum that summarizes new ranges only from PostgreSQL 13 on, and then rarely; with it, autovacuum summarizes
--   each range as it fills.
-- - The foreign keys to tasker_tasks go: audit rows are only written by the statement that writes their task row
--   (TaskSql.Create, TaskSql.Write join them to it), so they cannot point at a missing task. Deleting tasks still
--   deletes their history, by a statement trigger (one delete per table per statement, however many tasks).

ALTER TABLE tasker_task_transitions DROP CONSTRAINT tasker_task_transitions_pkey;
ALTER TABLE tasker_task_transitions DROP CONSTRAINT tasker_task_transitions_ordinal_key;
ALTER TABLE tasker_task_transitions ADD CONSTRAINT tasker_task_transitions_pkey PRIMARY KEY (task_uuid, ordinal);
ALTER TABLE tasker_task_transitions DROP CONSTRAINT tasker_task_transitions_task_uuid_fkey;
CREATE INDEX tasker_task_transitions_uuid_brin ON tasker_task_transitions USING brin (transition_uuid) WITH (autosummarize = on);

ALTER TABLE tasker_workflow_step_transitions DROP CONSTRAINT tasker_workflow_step_transitions_pkey;
ALTER TABLE tasker_workflow_step_transitions DROP CONSTRAINT tasker_workflow_step_transitions_ordinal_key;
ALTER TABLE tasker_workflow_step_transitions ADD CONSTRAINT tasker_workflow_step_transitions_pkey PRIMARY KEY (task_uuid, ordinal);
ALTER TABLE tasker_workflow_step_transitions DROP CONSTRAINT tasker_workflow_step_transitions_task_uuid_fkey;
CREATE INDEX tasker_workflow_step_transitions_uuid_brin ON tasker_workflow_step_transitions USING brin (transition_uuid) WITH (autosummarize = on);

-- search_path is fixed to this schema's at creation: a DELETE from any session finds the audit tables beside it.
CREATE FUNCTION tasker_delete_task_history() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM tasker_task_transitions h USING deleted_tasks d WHERE h.task_uuid = d.task_uuid;
    DELETE FROM tasker_workflow_step_transitions h USING deleted_tasks d WHERE h.task_uuid = d.task_uuid;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasker_tasks_delete_history
    AFTER DELETE ON tasker_tasks REFERENCING OLD TABLE AS deleted_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION tasker_delete_task_history();
