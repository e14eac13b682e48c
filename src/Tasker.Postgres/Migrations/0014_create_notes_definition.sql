-- Tasker schema, version 14: a create records its task's definition itself; the trigger is for other inserts (issue 13).
-- Since version 12 a row trigger on every task insert (tasker_note_definition_handlers, PL/pgSQL) probes
-- tasker_definition_handlers for the task's definition. Back to back that costs about 10 µs, but a create on a
-- connection idle for 30 ms (a task created now and then, where enqueue-to-start latency counts) paid 0.15–0.25 ms
-- for it: the trigger's call, its record of the new row and its query, all with cold caches.
-- From this version the library's create (TaskSql.Create) inserts the definition's rows in its own statement until
-- its process has seen such a create commit, and marks the task row definition_noted. The trigger now runs only for
-- rows inserted without that mark: by a process still on an older library during a rolling upgrade, or by any other
-- statement. Rows of tasker_definition_handlers are never deleted, so a definition once recorded stays recorded.
-- ADD COLUMN without a default rewrites nothing. It and the trigger's replacement take tasker_tasks's exclusive lock,
-- once the transactions using the table end, and hold it until the migrations' transaction commits (quick: nothing
-- here reads or writes rows).

ALTER TABLE tasker_tasks ADD COLUMN definition_noted boolean;

DROP TRIGGER tasker_tasks_note_definition ON tasker_tasks;

CREATE TRIGGER tasker_tasks_note_definition
    AFTER INSERT ON tasker_tasks
    FOR EACH ROW WHEN (NEW.definition_noted IS NOT TRUE) EXECUTE FUNCTION tasker_note_definition_handlers();
