-- Tasker schema, version 1.
-- Applied by Migrator in one transaction under an advisory lock, recorded in tasker_schema_migrations.
-- Shipped migrations never change (their checksum is verified); new changes go into 0002_*.sql and later.
--
-- Conventions: uuid v7 keys (time-ordered, so b-tree inserts stay local), states as their wire names
-- (pending, in_progress, ...), user JSON kept verbatim as json (results are written often and never queried),
-- the task context as jsonb (written once, useful to query). The current state of a task or step is a column,
-- written in the same statement as the transition rows that explain it.

CREATE TABLE tasker_namespaces (
    namespace_uuid uuid PRIMARY KEY,
    name           text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tasker_namespaces_name_key UNIQUE (name)
);

-- Task templates, one row per (namespace, name, version). source_json is the validated template in the core JSON
-- format; TemplateParser.Parse reads it back, so a template survives process restarts unchanged.
CREATE TABLE tasker_named_tasks (
    named_task_uuid    uuid PRIMARY KEY,
    namespace_uuid     uuid NOT NULL REFERENCES tasker_namespaces (namespace_uuid),
    name               text NOT NULL,
    version            text NOT NULL,
    version_major      integer NOT NULL,
    version_minor      integer NOT NULL,
    version_patch      integer NOT NULL,
    version_prerelease text,
    description        text,
    source_json        text NOT NULL,
    source_hash        text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tasker_named_tasks_version_key UNIQUE (namespace_uuid, name, version)
);

-- Newest-version lookups (a request without a version): semantic order, releases above their pre-releases.
CREATE INDEX tasker_named_tasks_semver_idx ON tasker_named_tasks
    (namespace_uuid, name, version_major DESC, version_minor DESC, version_patch DESC);

CREATE TABLE tasker_named_steps (
    named_step_uuid uuid PRIMARY KEY,
    named_task_uuid uuid NOT NULL REFERENCES tasker_named_tasks (named_task_uuid) ON DELETE CASCADE,
    name            text NOT NULL,
    step_index      integer NOT NULL,
    handler         text NOT NULL,
    description     text,
    CONSTRAINT tasker_named_steps_name_key UNIQUE (named_task_uuid, name)
);

CREATE TABLE tasker_tasks (
    task_uuid        uuid PRIMARY KEY,
    named_task_uuid  uuid REFERENCES tasker_named_tasks (named_task_uuid) ON DELETE SET NULL,
    namespace        text NOT NULL,
    name             text NOT NULL,
    version          text NOT NULL,
    state            text NOT NULL CHECK (state IN
                         ('pending', 'in_progress', 'waiting_for_retry', 'complete', 'error', 'cancelled', 'resolved_manually')),
    context          jsonb NOT NULL,
    tags             text[] NOT NULL DEFAULT '{}',
    priority         integer NOT NULL DEFAULT 0,
    initiator        text,
    source_system    text,
    reason           text,
    correlation_id   text,
    idempotency_key  text,
    identity         text,
    fail_fast        boolean NOT NULL DEFAULT false,
    -- Hash of the step definitions and DAG: processes cache the (immutable) shape under this key.
    definition_key   text NOT NULL,
    -- Compare-and-set guard: every write checks and bumps it, so concurrent writers of one task serialize.
    row_version      bigint NOT NULL DEFAULT 0,
    -- Transitions recorded so far; the next ones get ordinals after it (one order for task and step rows).
    transition_count integer NOT NULL DEFAULT 0,
    -- The id of the last committed write: lets a retry tell whether a commit whose reply was lost went through.
    last_write_uuid  uuid,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    finished_at      timestamptz
) WITH (fillfactor = 80); -- room for HOT updates: most writes touch no indexed column

-- Creating the same task twice (idempotency key or strict context hash) returns the first one.
CREATE UNIQUE INDEX tasker_tasks_identity_key ON tasker_tasks (namespace, name, identity) WHERE identity IS NOT NULL;
-- Listings: newest first, optionally by state or by template.
CREATE INDEX tasker_tasks_created_idx ON tasker_tasks (created_at DESC, task_uuid DESC);
CREATE INDEX tasker_tasks_state_created_idx ON tasker_tasks (state, created_at DESC, task_uuid DESC);
CREATE INDEX tasker_tasks_name_created_idx ON tasker_tasks (namespace, name, created_at DESC, task_uuid DESC);

CREATE TABLE tasker_workflow_steps (
    step_uuid            uuid PRIMARY KEY,
    task_uuid            uuid NOT NULL REFERENCES tasker_tasks (task_uuid) ON DELETE CASCADE,
    -- The template step it was copied from. No foreign key: a task is self-contained (its definition is copied
    -- below) and re-registering a template must not touch the steps of existing tasks.
    named_step_uuid      uuid,
    step_index           integer NOT NULL,
    name                 text NOT NULL,
    handler              text NOT NULL,
    initialization       json,
    retryable            boolean NOT NULL,
    max_attempts         integer NOT NULL,
    backoff_base_seconds double precision,
    max_backoff_seconds  double precision,
    timeout_seconds      integer,
    state                text NOT NULL CHECK (state IN
                             ('pending', 'in_progress', 'waiting_for_retry', 'complete', 'error', 'cancelled', 'resolved_manually')),
    attempts             integer NOT NULL DEFAULT 0,
    result               json,
    metadata             json,
    last_error           json,
    next_retry_at        timestamptz,
    claim_token          text,
    lease_expires_at     timestamptz,
    claimed_by           text,
    started_at           timestamptz,
    finished_at          timestamptz,
    CONSTRAINT tasker_workflow_steps_index_key UNIQUE (task_uuid, step_index)
) WITH (fillfactor = 80);

-- Deliberately no index on state, lease_expires_at or next_retry_at: those change on nearly every step write,
-- and without an index on them those writes are HOT updates (no index maintenance at all). Stale-work queries
-- reach steps through their task instead: steps are only in progress or waiting while their task is
-- (tasker_tasks_state_created_idx), so they scan the active tasks, not the history.

-- The DAG of each task: from_step must finish before to_step. position orders a step's dependencies as declared
-- (handlers see dependency results in that order).
CREATE TABLE tasker_workflow_step_edges (
    to_step_uuid   uuid NOT NULL REFERENCES tasker_workflow_steps (step_uuid) ON DELETE CASCADE,
    from_step_uuid uuid NOT NULL REFERENCES tasker_workflow_steps (step_uuid) ON DELETE CASCADE,
    task_uuid      uuid NOT NULL,
    position       integer NOT NULL,
    name           text NOT NULL DEFAULT 'provides',
    PRIMARY KEY (to_step_uuid, from_step_uuid)
);
CREATE INDEX tasker_workflow_step_edges_from_idx ON tasker_workflow_step_edges (from_step_uuid);
CREATE INDEX tasker_workflow_step_edges_task_idx ON tasker_workflow_step_edges (task_uuid);

-- The audit trail, append-only. ordinal is the position in the task's history, shared by task and step rows
-- (unique per task: a gap or a duplicate would be a bug, not a race).
CREATE TABLE tasker_task_transitions (
    transition_uuid uuid PRIMARY KEY,
    task_uuid       uuid NOT NULL REFERENCES tasker_tasks (task_uuid) ON DELETE CASCADE,
    ordinal         integer NOT NULL,
    from_state      text,
    to_state        text NOT NULL,
    reason          text NOT NULL,
    actor           text,
    created_at      timestamptz NOT NULL,
    CONSTRAINT tasker_task_transitions_ordinal_key UNIQUE (task_uuid, ordinal)
);

CREATE TABLE tasker_workflow_step_transitions (
    transition_uuid uuid PRIMARY KEY,
    -- Keyed to the task (the trail is read per task, in ordinal order; deleting a task removes its history).
    -- step_uuid has no foreign key of its own: steps are never deleted apart from their task, and each key check
    -- would cost a lookup on the hottest insert.
    task_uuid       uuid NOT NULL REFERENCES tasker_tasks (task_uuid) ON DELETE CASCADE,
    step_uuid       uuid NOT NULL,
    ordinal         integer NOT NULL,
    from_state      text NOT NULL,
    to_state        text NOT NULL,
    reason          text NOT NULL,
    actor           text,
    attempt         integer NOT NULL,
    created_at      timestamptz NOT NULL,
    CONSTRAINT tasker_workflow_step_transitions_ordinal_key UNIQUE (task_uuid, ordinal)
);

-- Append-only means append-only: history rows are never rewritten (deleting a whole task still cascades).
CREATE FUNCTION tasker_reject_history_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tasker: % is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER tasker_task_transitions_append_only
    BEFORE UPDATE ON tasker_task_transitions FOR EACH ROW EXECUTE FUNCTION tasker_reject_history_update();
CREATE TRIGGER tasker_workflow_step_transitions_append_only
    BEFORE UPDATE ON tasker_workflow_step_transitions FOR EACH ROW EXECUTE FUNCTION tasker_reject_history_update();
