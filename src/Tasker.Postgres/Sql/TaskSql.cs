namespace Tasker.Postgres.Sql;

/// <summary>
/// The statements of the task hot path: create, load, write back. Each is a single statement (data-modifying CTEs),
/// so it is atomic on its own and costs one round trip; step rows travel as arrays for <c>unnest</c>.
/// </summary>
internal static class TaskSql
{
    /// <summary>
    /// Inserts task, steps, edges and initial transitions, or nothing when the task uuid or its identity exists, or
    /// when the template changed since this process looked it up: $53, the template's fingerprint then
    /// (<see cref="TemplateSql.Fingerprint"/>; NULL: not checked), no longer matches. One row comes back: whether the
    /// fingerprint matched, then the task's uuid and context when it was inserted (NULLs when not). The template's uuids
    /// are looked up on the way, for the relational links. With $50 a created task is announced to waiting workers on
    /// channel $51 (NOTIFY, delivered at commit: no statement of its own), carrying the task ($54:
    /// <see cref="Work.Announcement"/>; NULL: an empty payload) when it fits the payload. $55: the handlers of its
    /// claimable steps (<see cref="Work.HandlerMask"/>), written as of row version 0. The task row is marked
    /// <c>definition_noted</c>, which spares it the insert trigger older libraries rely on (migration 14).
    /// <para>
    /// The statement has only the parts <paramref name="parts"/> names besides the task, its steps and its task
    /// transitions: each insert into a table sets up that table and opens its indexes at every execution, whether or
    /// not it writes a row, and most creates have no edges (a 1-step task), no step transitions (only bypassed steps
    /// have one) and a definition already recorded. Their parameters are sent all the same, so that $1–$55 mean the
    /// same in every variant.
    /// </para>
    /// </summary>
    public static string Create(CreateParts parts) => CreateVariants[(int)parts];

    /// <summary>What a create writes besides the task row, its steps and its task transitions.</summary>
    [Flags]
    public enum CreateParts
    {
        None = 0,
        /// <summary>
        /// The definition's handlers go into <c>tasker_definition_handlers</c> (sorted, so that two first creates of a
        /// definition cannot deadlock): its process has not seen them recorded yet (<see cref="Tasks.RecordedDefinitions"/>).
        /// </summary>
        RecordDefinition = 1,
        /// <summary>The DAG's edges ($33–$35).</summary>
        Edges = 2,
        /// <summary>Step transitions among $36–$44 (a step finished at creation: bypass_steps).</summary>
        StepTransitions = 4,
    }

    private static readonly string[] CreateVariants = Enumerable.Range(0, 8).Select(v => BuildCreate((CreateParts)v)).ToArray();

    private static string BuildCreate(CreateParts parts) =>
        CreateTask
        + (parts.HasFlag(CreateParts.RecordDefinition) ? CreateDefinitionHandlers : "")
        + CreateSteps
        + (parts.HasFlag(CreateParts.Edges) ? CreateEdges : "")
        + CreateTaskTransitions
        + (parts.HasFlag(CreateParts.StepTransitions) ? CreateStepTransitions : "")
        + CreateAnswer;

    private const string CreateTask = $"""
        WITH current AS (
            SELECT $53::text IS NULL OR $53::text = {TemplateSql.Fingerprint} AS template_ok
        ), nt AS (
            SELECT n.named_task_uuid
            FROM tasker_named_tasks n
            JOIN tasker_namespaces s ON s.namespace_uuid = n.namespace_uuid
            WHERE s.name = $2 AND n.name = $3 AND n.version = $4
        ), t AS (
            INSERT INTO tasker_tasks (task_uuid, named_task_uuid, namespace, name, version, state, context, tags, priority,
                initiator, source_system, reason, correlation_id, idempotency_key, identity, fail_fast, definition_key,
                transition_count, created_at, updated_at, finished_at, traceparent, requested_at, timeout_seconds, claimable_at,
                work_mask, work_mask_version, definition_noted)
            SELECT $1, (SELECT named_task_uuid FROM nt), $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $14,
                $15, $16, $17, $18, $19, $20, $45, $46, $49, $52, $55, 0, true
            FROM current WHERE current.template_ok
            ON CONFLICT DO NOTHING
            RETURNING task_uuid, context
        )
        """;

    private const string CreateDefinitionHandlers = """
        , d AS (
            INSERT INTO tasker_definition_handlers (handler, definition_key)
            SELECT DISTINCT u.handler, $16 FROM t CROSS JOIN unnest($24::text[]) AS u(handler)
            ORDER BY 1
            ON CONFLICT DO NOTHING
        )
        """;

    private const string CreateSteps = """
        , s AS (
            INSERT INTO tasker_workflow_steps (step_uuid, task_uuid, named_step_uuid, step_index, name, handler, initialization,
                retryable, max_attempts, backoff_base_seconds, max_backoff_seconds, timeout_seconds, state, attempts,
                metadata, finished_at)
            SELECT u.step_uuid, t.task_uuid, ns.named_step_uuid, u.step_index, u.name, u.handler, u.initialization::json,
                u.retryable, u.max_attempts, u.backoff_base_seconds, u.max_backoff_seconds, u.timeout_seconds, u.state, u.attempts,
                u.metadata::json, u.finished_at
            FROM t
            CROSS JOIN unnest($21::uuid[], $22::integer[], $23::text[], $24::text[], $25::text[], $26::boolean[], $27::integer[],
                $28::double precision[], $29::double precision[], $30::integer[], $31::text[], $32::integer[], $47::text[],
                $48::timestamptz[])
                AS u(step_uuid, step_index, name, handler, initialization, retryable, max_attempts, backoff_base_seconds,
                     max_backoff_seconds, timeout_seconds, state, attempts, metadata, finished_at)
            LEFT JOIN tasker_named_steps ns ON ns.named_task_uuid = (SELECT named_task_uuid FROM nt) AND ns.name = u.name
        )
        """;

    private const string CreateEdges = """
        , e AS (
            INSERT INTO tasker_workflow_step_edges (to_step_uuid, from_step_uuid, task_uuid, position)
            SELECT u.to_step_uuid, u.from_step_uuid, t.task_uuid, u.position
            FROM t CROSS JOIN unnest($33::uuid[], $34::uuid[], $35::integer[]) AS u(to_step_uuid, from_step_uuid, position)
        )
        """;

    private const string CreateTaskTransitions = """
        , tt AS (
            INSERT INTO tasker_task_transitions (transition_uuid, task_uuid, ordinal, from_state, to_state, reason, actor, created_at)
            SELECT u.transition_uuid, t.task_uuid, u.ordinal, u.from_state, u.to_state, u.reason, u.actor, u.created_at
            FROM t CROSS JOIN unnest($36::uuid[], $37::uuid[], $38::integer[], $39::text[], $40::text[], $41::text[], $42::text[],
                $43::integer[], $44::timestamptz[])
                AS u(transition_uuid, step_uuid, ordinal, from_state, to_state, reason, actor, attempt, created_at)
            WHERE u.step_uuid IS NULL
        )
        """;

    private const string CreateStepTransitions = """
        , st AS (
            INSERT INTO tasker_workflow_step_transitions (transition_uuid, task_uuid, step_uuid, ordinal, from_state, to_state,
                reason, actor, attempt, created_at)
            SELECT u.transition_uuid, t.task_uuid, u.step_uuid, u.ordinal, u.from_state, u.to_state, u.reason, u.actor, u.attempt, u.created_at
            FROM t CROSS JOIN unnest($36::uuid[], $37::uuid[], $38::integer[], $39::text[], $40::text[], $41::text[], $42::text[],
                $43::integer[], $44::timestamptz[])
                AS u(transition_uuid, step_uuid, ordinal, from_state, to_state, reason, actor, attempt, created_at)
            WHERE u.step_uuid IS NOT NULL
        )
        """;

    private const string CreateAnswer = """

        SELECT c.template_ok, t.task_uuid, t.context::text
        FROM current c
        LEFT JOIN t ON true
        LEFT JOIN LATERAL (
            SELECT pg_notify($51, CASE WHEN octet_length($54::text) < 8000 THEN $54::text ELSE '' END) -- pg_notify's limit
            WHERE $50 AND t.task_uuid IS NOT NULL) n ON true
        """;

    /// <summary>After a conflicting create: our own uuid first (a retried create whose first commit did land), then the identity.</summary>
    public const string FindExisting = """
        (SELECT task_uuid FROM tasker_tasks WHERE task_uuid = @TaskUuid)
        UNION ALL
        (SELECT task_uuid FROM tasker_tasks WHERE namespace = @Namespace AND name = @Name AND identity = @Identity)
        LIMIT 1
        """;

    /// <summary>
    /// One consistent snapshot of a task: the header row plus the mutable columns of all its steps, aggregated into
    /// arrays (one row, one round trip, no per-step queries). Step definitions and edges come from the shape cache.
    /// </summary>
    public const string Load = $"""
        SELECT {LoadColumns}
        FROM tasker_tasks t
        CROSS JOIN LATERAL ({LoadStepArrays}) s
        WHERE t.task_uuid = $1
        """;

    /// <summary>The columns <see cref="Tasks.TaskRow.Read"/> reads, by ordinal (t: the task row, s: <see cref="LoadStepArrays"/>).</summary>
    public const string LoadColumns = """
        t.namespace, t.name, t.version, t.state, t.context::text, t.tags, t.priority, t.initiator, t.source_system,
               t.reason, t.correlation_id, t.idempotency_key, t.identity, t.fail_fast, t.created_at, t.updated_at,
               t.finished_at, t.definition_key, t.row_version, t.transition_count, t.last_write_uuid,
               s.step_index, s.step_uuid, s.state, s.attempts, s.result, s.metadata, s.last_error, s.next_retry_at,
               s.claim_token, s.lease_expires_at, s.claimed_by, s.started_at, s.finished_at, t.traceparent,
               t.requested_at, t.timeout_seconds
        """;

    /// <summary>The mutable columns of task t's steps, aggregated into arrays (one row).</summary>
    public const string LoadStepArrays = """
        SELECT array_agg(w.step_index) AS step_index, array_agg(w.step_uuid) AS step_uuid, array_agg(w.state) AS state,
                   array_agg(w.attempts) AS attempts, array_agg(w.result::text) AS result,
                   array_agg(w.metadata::text) AS metadata, array_agg(w.last_error::text) AS last_error,
                   array_agg(w.next_retry_at) AS next_retry_at, array_agg(w.claim_token) AS claim_token,
                   array_agg(w.lease_expires_at) AS lease_expires_at, array_agg(w.claimed_by) AS claimed_by,
                   array_agg(w.started_at) AS started_at, array_agg(w.finished_at) AS finished_at
            FROM tasker_workflow_steps w
            WHERE w.task_uuid = t.task_uuid
        """;

    /// <summary>
    /// The slow path after a lost compare-and-set: take the row lock first, so the following <see cref="Load"/> (a
    /// new statement, hence a new snapshot in READ COMMITTED) sees the latest committed state and nobody can write
    /// in between.
    /// </summary>
    public const string Lock = "SELECT 1 FROM tasker_tasks WHERE task_uuid = $1 FOR UPDATE";

    /// <summary>
    /// Writes back any number of changes, each to its own task, in one statement and so one commit: per task the
    /// header (compare-and-set on row_version), its dirty steps and its new transitions. A task whose row_version
    /// moved (another process wrote it first) gets nothing at all written: its steps and transitions are kept to the
    /// tasks whose header update happened (<c>t</c>). Returns the uuids of the tasks written.
    /// <para>
    /// The task rows are locked first, in uuid order (<c>lk</c>): two processes writing overlapping batches then take
    /// their locks in the same order and cannot deadlock. Each header update takes the task's row lock, so two
    /// processes finishing a task's last steps serialize here and only one records its final transition.
    /// </para>
    /// <para>
    /// The store runs generic plans, whose row guesses for an unnest or a CTE are a handful, so the header update's
    /// <c>IN (SELECT ... FROM lk)</c> and the task transitions' join to <c>t</c> were nested loops that rescanned the
    /// CTE for every row: about a third of the statement's time at 64 tasks, and quadratic. Now the lock runs once, as
    /// an InitPlan: the always-true count reads all of <c>lk</c>, taking every lock in uuid order before the update
    /// reads a row. (A CTE that only selects runs only if something reads it: without the count nothing would lock up
    /// front.) Each part that writes rows keeps them to the written tasks through an array of their uuids, built once
    /// per part: still a comparison per row and task, but a tight one (0.36 ms for 384 rows against 128 tasks), not an
    /// executor node per pair. The header and step updates also keep their rows to <c>$1</c> by key (always true: every
    /// dirty step is one of a written task's), which lets the generic plan probe the indexes instead of scanning a small table.
    /// </para>
    /// <para>
    /// $1–$7: task uuid, expected row_version, state, updated_at, finished_at, transition_count, write stamp.
    /// $8–$20: each dirty step's task and step uuid and mutable columns. $21–$30: each transition's uuid, task, step
    /// (NULL for a task transition), ordinal, from, to, reason, actor, attempt, time. $31: each task's claimable_at
    /// (with the header columns; numbered last because it came last, in migration 10). $32: the write stamp
    /// (<c>last_write_uuid</c>) each change was computed on, checked with the row version: an unflushed claim the
    /// database lost in a crash leaves the row version to be reached again by another write, never its stamp.
    /// $33: each task's <c>work_mask</c> (<see cref="Work.HandlerMask"/>), written with the row version it goes with.
    /// </para>
    /// </summary>
    public const string Write = $"""
        {WriteTasks}
        {Written}
        """;

    /// <summary><see cref="Write"/> of claims only, committed without waiting for the WAL flush (<see cref="WrittenUnflushed"/>).</summary>
    public const string WriteClaims = $"""
        {WriteTasks}
        {WrittenUnflushed}
        """;

    /// <summary><see cref="Write"/> without its answer.</summary>
    private const string WriteTasks = $"""
        WITH {WriteLock}, t AS (
            {WriteHeader}
              AND k.task_uuid = ANY ($1::uuid[]) AND (SELECT count(*) FROM lk) >= 0
            RETURNING k.task_uuid
        ), {WriteSteps}
              AND w.task_uuid = ANY ($1::uuid[])
        ), {WriteTransitions}
        """;

    /// <summary>
    /// <see cref="Write"/> of a single task: without the up-front lock of its row. One row lock cannot be taken in the
    /// wrong order, and the update takes it anyway; the separate lock cost a WAL record and a buffer visit per write.
    /// Its task and steps are looked up by the one uuid as a scalar: the generic plan's guess of ten rows for an array
    /// made a small table's (a new deployment's) sequential scan look cheaper than ten index probes, and a hash join of
    /// the whole table cost a third of the statement (0.25 of 0.37 ms on 400 tasks).
    /// </summary>
    public const string WriteOne = $"""
        {WriteOneTask}
        {Written}
        """;

    /// <summary><see cref="WriteOne"/> of a claim, committed without waiting for the WAL flush (<see cref="WrittenUnflushed"/>).</summary>
    public const string WriteOneClaim = $"""
        {WriteOneTask}
        {WrittenUnflushed}
        """;

    /// <summary><see cref="WriteOne"/> without its answer.</summary>
    private const string WriteOneTask = $"""
        WITH t AS (
            {WriteHeader}
              AND k.task_uuid = ($1::uuid[])[1]
            RETURNING k.task_uuid
        ), {WriteSteps}
              AND w.task_uuid = ($1::uuid[])[1]
        ), {WriteTransitions}
        """;

    /// <summary>
    /// <see cref="WriteOneClaim"/> of a task claimed from its announcement (<see cref="Work.Announcement"/>), which
    /// carries no request fields and is proof of nothing: the task is written only if its rows are still exactly as
    /// announced (<see cref="AsAnnounced"/>, $34–$47), and its request fields come back with it
    /// (<see cref="RequestColumns"/>). Unflushed like every claim, unless $48: durable claims
    /// (<see cref="PostgresStoreOptions.DurableClaims"/>), or a change that does more than claim (a task past its deadline).
    /// </summary>
    public const string WriteOneAnnounced = $"""
        WITH t AS (
            {WriteHeader}
              AND k.task_uuid = ($1::uuid[])[1] AND {AsAnnounced}
            RETURNING {RequestColumns}
        ), {WriteSteps}
              AND w.task_uuid = ($1::uuid[])[1]
        ), {WriteTransitions}
        {WrittenAnnounced}
        """;

    /// <summary><see cref="WriteOneAnnounced"/> of several tasks, their rows locked first in uuid order (as <see cref="Write"/>).</summary>
    public const string WriteAnnounced = $"""
        WITH {WriteLock}, t AS (
            {WriteHeader}
              AND k.task_uuid = ANY ($1::uuid[]) AND (SELECT count(*) FROM lk) >= 0 AND {AsAnnounced}
            RETURNING {RequestColumns}
        ), {WriteSteps}
              AND w.task_uuid = ANY ($1::uuid[])
        ), {WriteTransitions}
        {WrittenAnnounced}
        """;

    /// <summary>
    /// The task row <c>k</c> is as its announcement says: pending, and still as created (the write's compare-and-set
    /// on row version 0 and no write stamp), with the announced header columns the engine decides on; and its steps
    /// are exactly the announced ones at their indexes, every one pending with no attempt (one pass over the task's
    /// steps by its index). Per task $34–$46: uuid, namespace, name, version, priority, fail_fast, created_at,
    /// requested_at, timeout_seconds, definition_key, transition_count, step count, and where its step uuids start in
    /// $47 (every announced task's step uuids, each task's in index order). With the definition key (the hash of every
    /// step's definition, handler included) checked, the worker's cached shape for it is the task's, so the handler it
    /// runs is the step's own.
    /// </summary>
    private const string AsAnnounced = """
        k.state = 'pending' AND EXISTS (
                SELECT 1
                FROM unnest($34::uuid[], $35::text[], $36::text[], $37::text[], $38::integer[], $39::boolean[], $40::timestamptz[],
                            $41::timestamptz[], $42::integer[], $43::text[], $44::integer[], $45::integer[], $46::integer[])
                    AS a(task_uuid, namespace, name, version, priority, fail_fast, created_at, requested_at, timeout_seconds,
                         definition_key, transition_count, step_count, step_offset)
                WHERE a.task_uuid = k.task_uuid
                  AND (k.namespace, k.name, k.version, k.priority, k.fail_fast, k.created_at, k.definition_key, k.transition_count)
                    = (a.namespace, a.name, a.version, a.priority, a.fail_fast, a.created_at, a.definition_key, a.transition_count)
                  AND k.requested_at IS NOT DISTINCT FROM a.requested_at AND k.timeout_seconds IS NOT DISTINCT FROM a.timeout_seconds
                  AND (SELECT count(*) = a.step_count
                              AND count(*) FILTER (WHERE c.state = 'pending' AND c.attempts = 0
                                                     AND c.step_uuid = ($47::uuid[])[a.step_offset + c.step_index + 1]) = a.step_count
                       FROM tasker_workflow_steps c WHERE c.task_uuid = k.task_uuid))
        """;

    /// <summary>What an announcement leaves out, returned by the write of its claim (read by <see cref="Work.AnnouncedRequest"/>).</summary>
    private const string RequestColumns = """
        k.task_uuid, k.context::text AS context, k.tags, k.initiator, k.source_system, k.reason, k.correlation_id,
                k.idempotency_key, k.identity, k.traceparent
        """;

    private const string WriteLock = """
        lk AS MATERIALIZED (
            SELECT k.task_uuid FROM tasker_tasks k
            WHERE k.task_uuid = ANY($1)
            ORDER BY k.task_uuid
            FOR UPDATE)
        """;

    private const string WriteHeader = """
        UPDATE tasker_tasks k
            SET state = u.state, updated_at = u.updated_at, finished_at = u.finished_at, transition_count = u.transition_count,
                last_write_uuid = u.write_uuid, row_version = k.row_version + 1, claimable_at = u.claimable_at,
                work_mask = u.work_mask, work_mask_version = k.row_version + 1
            FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::integer[], $7::uuid[],
                        $31::timestamptz[], $32::uuid[], $33::bigint[])
                AS u(task_uuid, row_version, state, updated_at, finished_at, transition_count, write_uuid, claimable_at, based_on_write,
                     work_mask)
            WHERE k.task_uuid = u.task_uuid AND k.row_version = u.row_version AND k.last_write_uuid IS NOT DISTINCT FROM u.based_on_write
        """;

    /// <summary>The dirty steps' update, open for a restriction of the steps to the written tasks' (by index).</summary>
    private const string WriteSteps = """
        s AS (
            UPDATE tasker_workflow_steps w
            SET state = u.state, attempts = u.attempts, result = u.result::json, metadata = u.metadata::json,
                last_error = u.last_error::json, next_retry_at = u.next_retry_at, claim_token = u.claim_token,
                lease_expires_at = u.lease_expires_at, claimed_by = u.claimed_by, started_at = u.started_at,
                finished_at = u.finished_at
            FROM unnest($8::uuid[], $9::uuid[], $10::text[], $11::integer[], $12::text[], $13::text[], $14::text[],
                        $15::timestamptz[], $16::text[], $17::timestamptz[], $18::text[], $19::timestamptz[], $20::timestamptz[])
                AS u(task_uuid, step_uuid, state, attempts, result, metadata, last_error, next_retry_at, claim_token,
                     lease_expires_at, claimed_by, started_at, finished_at)
            WHERE w.step_uuid = u.step_uuid AND w.task_uuid = u.task_uuid AND u.task_uuid = ANY ((SELECT array_agg(task_uuid) FROM t)::uuid[])
        """;

    private const string WriteTransitions = """
        tt AS (
            INSERT INTO tasker_task_transitions (transition_uuid, task_uuid, ordinal, from_state, to_state, reason, actor, created_at)
            SELECT u.transition_uuid, u.task_uuid, u.ordinal, u.from_state, u.to_state, u.reason, u.actor, u.created_at
            FROM unnest($21::uuid[], $22::uuid[], $23::uuid[], $24::integer[], $25::text[], $26::text[], $27::text[], $28::text[],
                        $29::integer[], $30::timestamptz[])
                AS u(transition_uuid, task_uuid, step_uuid, ordinal, from_state, to_state, reason, actor, attempt, created_at)
            WHERE u.step_uuid IS NULL AND u.task_uuid = ANY ((SELECT array_agg(task_uuid) FROM t)::uuid[])
        ), st AS (
            INSERT INTO tasker_workflow_step_transitions (transition_uuid, task_uuid, step_uuid, ordinal, from_state, to_state,
                reason, actor, attempt, created_at)
            SELECT u.transition_uuid, u.task_uuid, u.step_uuid, u.ordinal, u.from_state, u.to_state, u.reason, u.actor, u.attempt, u.created_at
            FROM unnest($21::uuid[], $22::uuid[], $23::uuid[], $24::integer[], $25::text[], $26::text[], $27::text[], $28::text[],
                        $29::integer[], $30::timestamptz[])
                AS u(transition_uuid, task_uuid, step_uuid, ordinal, from_state, to_state, reason, actor, attempt, created_at)
            WHERE u.step_uuid IS NOT NULL AND u.task_uuid = ANY ((SELECT array_agg(task_uuid) FROM t)::uuid[])
        )
        """;

    /// <summary>The answer of a write: the uuids of the tasks written (what <c>t</c> returns).</summary>
    private const string Written = "SELECT t.* FROM t";

    /// <summary>
    /// The answer of a write of claims only, which also sets <c>synchronous_commit</c> off for the statement's own
    /// transaction (<c>set_config(..., true)</c>: PostgreSQL reads the setting when it commits and resets it after), so
    /// that the commit returns before its WAL reaches disk (<see cref="PostgresStoreOptions.DurableClaims"/>). Inside an
    /// explicit transaction it holds until that transaction's <c>COMMIT</c>. Nothing else on the connection is affected.
    /// Only from PostgreSQL's default, <c>on</c> with no synchronous standby: a setting that asks for more (a standby's
    /// confirmation, <c>local</c>, set for the server, the role or the database) is left as it is. The write's other
    /// parts run whether or not anything reads them; this one runs for each task written (none written: nothing to
    /// flush either), and the filter on its value keeps the planner from dropping it.
    /// </summary>
    internal const string WrittenUnflushed = """
        SELECT t.*
        FROM t CROSS JOIN (
            SELECT set_config('synchronous_commit',
                CASE WHEN current_setting('synchronous_commit') = 'on' AND current_setting('synchronous_standby_names') = ''
                     THEN 'off' ELSE current_setting('synchronous_commit') END, true) AS setting) AS unflushed
        WHERE unflushed.setting IS NOT NULL
        """;

    /// <summary>
    /// The answer of an announced claim: <see cref="WrittenUnflushed"/>, except that $48 (durable claims, or a write
    /// that is not claims only) leaves the setting as it is.
    /// </summary>
    private const string WrittenAnnounced = """
        SELECT t.*
        FROM t CROSS JOIN (
            SELECT set_config('synchronous_commit',
                CASE WHEN NOT $48::boolean AND current_setting('synchronous_commit') = 'on' AND current_setting('synchronous_standby_names') = ''
                     THEN 'off' ELSE current_setting('synchronous_commit') END, true) AS setting) AS unflushed
        WHERE unflushed.setting IS NOT NULL
        """;

    /// <summary>
    /// Settles a write whose commit reply was lost: its transition rows exist exactly if it committed. $1 task, $2 the
    /// first row's ordinal, $3 its uuid: looked up by the audit tables' keys (task, ordinal); the uuid tells our row
    /// from another process's at the same place.
    /// </summary>
    public const string TransitionExists = """
        SELECT EXISTS (SELECT 1 FROM tasker_task_transitions WHERE task_uuid = $1 AND ordinal = $2 AND transition_uuid = $3)
            OR EXISTS (SELECT 1 FROM tasker_workflow_step_transitions WHERE task_uuid = $1 AND ordinal = $2 AND transition_uuid = $3)
        """;

    /// <summary>
    /// Settles a work claim whose commit reply was lost (<see cref="Work.ClaimInDoubt"/>): the tasks among $1 whose write
    /// committed, each proven by its first transition row ($2 ordinal, $3 uuid, as <see cref="TransitionExists"/>) or by
    /// the row's write stamp ($4; a later write replaces it, a transition row stays). With their request columns, which
    /// a claim from an announcement hands out with its claims; and whether the write is still the row's last.
    /// </summary>
    public const string WritesLanded = $"""
        SELECT {RequestColumns}, k.last_write_uuid = w.write_uuid AS current
        FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::uuid[]) AS w(task_uuid, ordinal, transition_uuid, write_uuid)
        JOIN tasker_tasks k ON k.task_uuid = w.task_uuid
        WHERE k.last_write_uuid = w.write_uuid
           OR EXISTS (SELECT 1 FROM tasker_task_transitions x
                      WHERE x.task_uuid = w.task_uuid AND x.ordinal = w.ordinal AND x.transition_uuid = w.transition_uuid)
           OR EXISTS (SELECT 1 FROM tasker_workflow_step_transitions x
                      WHERE x.task_uuid = w.task_uuid AND x.ordinal = w.ordinal AND x.transition_uuid = w.transition_uuid)
        """;

    /// <summary>A cache miss of the shape cache: the immutable step definitions and the edges of one task.</summary>
    public const string Definitions = """
        SELECT step_index AS StepIndex, name AS Name, handler AS Handler, initialization::text AS Initialization,
               retryable AS Retryable, max_attempts AS MaxAttempts, backoff_base_seconds AS BackoffBaseSeconds,
               max_backoff_seconds AS MaxBackoffSeconds, timeout_seconds AS TimeoutSeconds
        FROM tasker_workflow_steps
        WHERE task_uuid = @TaskUuid
        ORDER BY step_index
        """;

    public const string Edges = """
        SELECT c.step_index AS Child, p.step_index AS Parent, e.position AS Position
        FROM tasker_workflow_step_edges e
        JOIN tasker_workflow_steps c ON c.step_uuid = e.to_step_uuid
        JOIN tasker_workflow_steps p ON p.step_uuid = e.from_step_uuid
        WHERE e.task_uuid = @TaskUuid
        """;
}
