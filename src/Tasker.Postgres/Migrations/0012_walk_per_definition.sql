-- Tasker schema, version 12: a work claim's find walks only tasks whose steps name one of its handlers (issue 13).
-- Up to version 11 the find (WorkSql.ClaimReadyTasks) walked every task with claimable work, in order of work, and
-- checked each one's steps for the claimer's handlers: a worker walked past all the work queued for handlers it does
-- not have (each language's workers past the others' backlog), 22 ms a claim of 8 past 5,000 such tasks.
-- Tasks with the same steps share a definition_key (a hash of their steps, handlers included). This table says which
-- handlers each definition names; the find walks the stretch of the new index of each definition that names one of its
-- handlers and merges the stretches in order of work: 0.4 ms a claim on the same data.
-- A process still on an older library during a rolling upgrade must not create tasks no find would walk, so the rows
-- are written by a trigger on the steps' insert, whoever inserts them. Rows are never deleted: a definition is a few
-- bytes per handler, and a pruned definition's template may create tasks again.

CREATE TABLE tasker_definition_handlers (
    handler        text NOT NULL,
    definition_key text NOT NULL,
    PRIMARY KEY (handler, definition_key)
);

-- The rows of every task already here, finished ones too: an operator's retry makes a finished task claimable again.
INSERT INTO tasker_definition_handlers (handler, definition_key)
SELECT DISTINCT s.handler, t.definition_key
FROM tasker_workflow_steps s
JOIN tasker_tasks t ON t.task_uuid = s.task_uuid;

-- A task's steps are inserted by the statement that inserts the task (TaskSql.Create), so the statement's task rows are
-- there when this runs, at its end. The NOT EXISTS keeps the common case (a definition seen before) to a read of the
-- primary key; rows go in sorted, so two creates of a new definition's first tasks cannot deadlock on them.
-- search_path is fixed to this schema's at creation: the table beside it is found from any session.
CREATE FUNCTION tasker_note_definition_handlers() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO tasker_definition_handlers (handler, definition_key)
    SELECT DISTINCT s.handler, t.definition_key
    FROM inserted_steps s
    JOIN tasker_tasks t ON t.task_uuid = s.task_uuid
    WHERE NOT EXISTS (SELECT 1 FROM tasker_definition_handlers d
                      WHERE d.handler = s.handler AND d.definition_key = t.definition_key)
    ORDER BY 1, 2
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasker_workflow_steps_note_handlers
    AFTER INSERT ON tasker_workflow_steps REFERENCING NEW TABLE AS inserted_steps
    FOR EACH STATEMENT EXECUTE FUNCTION tasker_note_definition_handlers();

-- The walk's index, one stretch per definition. It replaces version 10's rather than joining it: with both, the
-- generic plan probed the old one and filtered on the definition, which is the walk past everything again.
-- definition_key never changes, so task writes stay as HOT as before.
CREATE INDEX tasker_tasks_definition_walk_idx
    ON tasker_tasks (definition_key, (-(priority::bigint)), claimable_at, task_uuid)
    WHERE finished_state IS NULL AND claimable_at IS NOT NULL;

DROP INDEX tasker_tasks_claimable_idx;
