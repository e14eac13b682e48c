-- Tasker schema, version 12: a work claim's find walks only tasks whose steps name one of its handlers (issue 13).
-- Up to version 11 the find (WorkSql.ClaimReadyTasks) walked every task with claimable work, in order of work, and
-- checked each one's steps for the claimer's handlers: a worker walked past all the work queued for handlers it does
-- not have (each language's workers past the others' backlog), 22 ms a claim of 8 past 5,000 such tasks.
-- Tasks with the same steps share a definition_key (a hash of their steps, handlers included). This table says which
-- handlers each definition names; the find walks the stretch of the new index of each definition that names one of its
-- handlers and merges the stretches in order of work: 0.4 ms a claim on the same data.
-- A process still on an older library during a rolling upgrade must not create tasks no find would walk, so the rows
-- are written by a trigger on the task's insert, whoever inserts it. Rows are never deleted: a definition is a few
-- bytes per handler, and a pruned definition's template may create tasks again.

CREATE TABLE tasker_definition_handlers (
    handler        text NOT NULL,
    definition_key text NOT NULL,
    PRIMARY KEY (handler, definition_key)
);

CREATE INDEX tasker_definition_handlers_definition_idx ON tasker_definition_handlers (definition_key);

-- A task's steps are inserted by the statement that inserts the task (TaskSql.Create; every version of it), and an
-- AFTER trigger runs at the end of that statement, so they are there to read. A row trigger on the task rather than a
-- statement trigger on its steps: a create of a definition seen before costs one probe of the definition index, where
-- the statement trigger (a transition table of the steps, a probe per step) added about 0.15 ms to each create of
-- the 7-step bench template. Rows go in sorted, so two creates of a new definition's first tasks cannot deadlock.
-- search_path is fixed to this schema's at creation: the table beside it is found from any session.
CREATE FUNCTION tasker_note_definition_handlers() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM tasker_definition_handlers d WHERE d.definition_key = NEW.definition_key) THEN
        INSERT INTO tasker_definition_handlers (handler, definition_key)
        SELECT DISTINCT s.handler, NEW.definition_key
        FROM tasker_workflow_steps s
        WHERE s.task_uuid = NEW.task_uuid
        ORDER BY 1
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasker_tasks_note_definition
    AFTER INSERT ON tasker_tasks
    FOR EACH ROW EXECUTE FUNCTION tasker_note_definition_handlers();

-- The rows of every task already here, finished ones too: an operator's retry makes a finished task claimable again.
-- After the trigger: CREATE TRIGGER locks out inserts into tasker_tasks until this migration commits, so a task an
-- older process inserts is either committed before this statement (and read by it) or noted by the trigger.
INSERT INTO tasker_definition_handlers (handler, definition_key)
SELECT DISTINCT s.handler, t.definition_key
FROM tasker_workflow_steps s
JOIN tasker_tasks t ON t.task_uuid = s.task_uuid;

-- The walk's index, one stretch per definition. It replaces version 10's rather than joining it: with both, the
-- generic plan probed the old one and filtered on the definition, which is the walk past everything again.
-- definition_key never changes, so task writes stay as HOT as before. The stretches are keyed by a 64-bit hash of it,
-- not the 64 characters themselves: every claim and completion writes an entry, and the text key cost 85 bytes of WAL
-- a step. Two definitions whose hashes collide share a stretch, which is still in order of work: the find then walks
-- both, and its check of each task's steps keeps it to its handlers.
CREATE INDEX tasker_tasks_definition_walk_idx
    ON tasker_tasks (hashtextextended(definition_key, 0), (-(priority::bigint)), claimable_at, task_uuid)
    WHERE finished_state IS NULL AND claimable_at IS NOT NULL;

DROP INDEX tasker_tasks_claimable_idx;
