namespace Tasker.Postgres.Work;

/// <summary>The statements of worker mode (claims across tasks), each with its parameters documented.</summary>
internal static class WorkSql
{

    /// <summary>
    /// Finds and (see below) locks tasks with a step ready now for one of $1 (handlers): pending or due for retry, attempts
    /// left, every parent complete or resolved; or in progress with its lease expired (the claim expires it and takes it
    /// over); the task unfinished; $2 the namespaces (NULL: all), $3 now, $4 how many tasks, $5 now less the work affinity, $6 the worker, $7 the
    /// worker's handlers as a mask (<see cref="HandlerMask"/>).
    /// Highest priority first, then earliest claimable (<c>claimable_at</c>: a task with a step ready now counts from its
    /// creation, so oldest first; a retry from its time, an expired lease from its expiry). Run inside the work claim's
    /// transaction, which writes the claims and commits.
    /// <para>
    /// The walk visits only tasks whose steps name one of $1: tasks with the same steps share a definition (their
    /// <c>definition_key</c>), <c>tasker_definition_handlers</c> says which handlers each one names (migration 12), and
    /// each such definition has its own stretch of tasker_tasks_definition_walk_idx (keyed by a hash of it). <c>heads</c>
    /// takes the first entry of each stretch; <c>walk</c> is a k-way merge of the stretches in order of work: each step
    /// returns the least head (its arrays carry every stretch's head, one element per definition) and replaces it with the
    /// next entry of its stretch (a LIMIT 1 index probe past it), lazily: <c>found</c> stops pulling at the $4-th task
    /// (<c>OFFSET 0</c> keeps the new heads from being inlined into, and rebuilt by, every expression that reads them; one
    /// definition, the common case, needs no search for the least head). So a claim does not walk past the work queued for
    /// handlers it does not have; it still walks past tasks of its definitions whose ready steps are another handler's (a
    /// DAG whose steps run in several languages), but without reading their steps: each probe passes over rows whose
    /// claimable steps' handlers (<c>work_mask</c>, migration 13) have none of the claimer's ($7, <see cref="MaybeMine"/>).
    /// Only tasks with <c>claimable_at</c> up to now are on the walk: a task whose steps are all running sits beyond it
    /// until its leases expire, so a find does not grow with the work in flight. The probe's conditions are on index
    /// columns but for that mask test, on the row the probe fetches anyway, which the generic plan takes to pass nearly
    /// every row: a LIMIT 1 index scan is always the cheapest plan for it whatever the statistics say. A namespace
    /// filter inside it made the generic plan's guess of its selectivity choose a bitmap scan of every queued task and a
    /// sort, per probe, so the namespace is checked on the walked row. No index on step state: it would make every step write a non-HOT update; each walked
    /// task's steps come through their (task_uuid, step_index) key, and are checked here whatever <c>claimable_at</c> says.
    /// One pass over a walked task's steps answers both questions the claim asks of them: is a step of ours ready, and
    /// is a worker running one (<c>busy</c>, below): 11 % less of the find's time than two passes on 1-step tasks. It has no
    /// early exit, so a task with many pending steps of ours has each one's parents checked (the EXISTS it replaced stopped
    /// at the first ready one). <c>ready</c> is
    /// materialized so that this check runs before the lock: a task whose steps are all running is passed, not locked.
    /// </para>
    /// <para>
    /// The lock is <c>FOR UPDATE SKIP LOCKED</c>, taken by <c>tasker_hold_task</c> (migration 9) only if the task's
    /// row_version is still the one this statement's snapshot saw: a task another transaction holds (another worker's
    /// claim, a write in flight) is passed over, never waited for, so no two claims reach for the same task and none
    /// loses a race after the fact; a task that changed since the snapshot is passed over too (<c>passed</c>) and, since
    /// the function's own statement sees what has committed since, not locked (a plain lateral FOR UPDATE would follow
    /// the row to its newest version, lock it and keep the lock until commit, holding up the report of the worker that
    /// just claimed it). For every task held, the snapshot's row_version is the locked one, so the task and steps
    /// loaded from the snapshot are current, and stay so until commit.
    /// </para>
    /// <para>
    /// Passed-over tasks do not count against $4: the walk goes on past them (another worker's claim holds the tasks
    /// at the head of the queue for as long as its transaction runs, and a find that stopped there came back empty
    /// and slept until the next poll, 1.5 to 2 times fewer 1-step tasks a second with two workers). Only the first one
    /// comes back (<c>passed_so_far</c>, a running count the window computes row by row, reading one row ahead, so the
    /// walk still stops right after the $4-th row it returns), which is all the caller needs to know. Past
    /// 256 of them (a bulk operator change holding many tasks), every further one comes back
    /// and fills the limit: a find never walks an unbounded stretch of held tasks.
    /// </para>
    /// <para>
    /// A task on which a worker is running a step (<c>busy</c>: a step in progress whose lease has not expired) is not
    /// locked: that worker's report would wait for this claim's commit and then lose its compare-and-set to it, and
    /// reload and write again. It comes back as of this statement's snapshot, for a claim of its own that takes turns
    /// with those reports (<see cref="Tasker.Core.WorkFound.BusyTasks"/>) and starts from that copy unless this
    /// process holds a newer one (its compare-and-set proves it current). Unless every running step of it was claimed
    /// after $5 by another worker than $6 (<c>fresh</c>, <see cref="Tasker.Core.TaskerOptions.WorkAffinity"/>): such a
    /// task is left alone and does not count against $4: that worker claims its ready steps (its report one, through
    /// <c>claim_next</c>, and its next work claim the others); a claim of them here made that report lose its compare-and-set (in the 7-step DAG bench, 450–590 lost a run of
    /// 5,600 steps, and 0.16 ms more CPU a step). Once its oldest running step is older than the affinity, any worker
    /// claims its steps: a worker that keeps claiming a task's steps does not keep the others off it for longer. Like
    /// passed tasks, only the first fresh one comes back (<c>fresh</c> and <c>oldest_start</c>, so that the caller can
    /// look again when the affinity has passed), and fresh and passed ones together past 256 come back and fill the limit.
    /// </para>
    /// <para>
    /// Each locked or busy task comes back as <see cref="Sql.TaskSql.Load"/> returns it (plus its uuid, <c>passed</c>
    /// and <c>busy</c>); a passed one with its uuid and the two flags only. The row is fetched by key in a LATERAL (a plain join back let
    /// the generic plan hash-join a scan of every task).
    /// </para>
    /// </summary>
    public const string ClaimReadyTasks = $"""
        WITH RECURSIVE heads AS (
            SELECT array_agg(d.definition) AS hk, array_agg(n.rank) AS hr, array_agg(n.claimable_at) AS ha,
                   array_agg(n.task_uuid) AS hu, array_agg(n.namespace) AS hn, array_agg(n.row_version) AS hv
            FROM (SELECT DISTINCT hashtextextended(d.definition_key, 0) AS definition
                  FROM tasker_definition_handlers d WHERE d.handler = ANY($1)) d
            CROSS JOIN LATERAL (
                SELECT -(t.priority::bigint) AS rank, t.claimable_at, t.task_uuid, t.namespace, t.row_version
                FROM tasker_tasks t
                WHERE hashtextextended(t.definition_key, 0) = d.definition AND t.finished_state IS NULL AND t.claimable_at <= $3
                  AND {MaybeMine}
                ORDER BY -(t.priority::bigint), t.claimable_at, t.task_uuid
                LIMIT 1) n
        ), walk AS (
            (SELECT a.hk, a.hr, a.ha, a.hu, a.hn, a.hv, m.i,
                    a.hr[m.i] AS rank, a.ha[m.i] AS claimable_at, a.hu[m.i] AS task_uuid, a.hn[m.i] AS namespace, a.hv[m.i] AS row_version
             FROM heads a
             CROSS JOIN LATERAL (SELECT i FROM generate_subscripts(a.hu, 1) AS i
                                 ORDER BY a.hr[i], a.ha[i], a.hu[i] LIMIT 1) m)
            UNION ALL
            (SELECT u.hk, u.hr, u.ha, u.hu, u.hn, u.hv, m.i, u.hr[m.i], u.ha[m.i], u.hu[m.i], u.hn[m.i], u.hv[m.i]
             FROM walk w
             LEFT JOIN LATERAL (
                 SELECT -(t.priority::bigint) AS rank, t.claimable_at, t.task_uuid, t.namespace, t.row_version
                 FROM tasker_tasks t
                 WHERE hashtextextended(t.definition_key, 0) = w.hk[w.i] AND t.finished_state IS NULL AND t.claimable_at <= $3
                   AND (-(t.priority::bigint), t.claimable_at, t.task_uuid) > (w.rank, w.claimable_at, w.task_uuid)
                   AND {MaybeMine}
                 ORDER BY -(t.priority::bigint), t.claimable_at, t.task_uuid
                 LIMIT 1) n ON true
             CROSS JOIN LATERAL (
                 SELECT w.hk,
                        w.hr[:w.i - 1] || n.rank || w.hr[w.i + 1:] AS hr,
                        w.ha[:w.i - 1] || n.claimable_at || w.ha[w.i + 1:] AS ha,
                        w.hu[:w.i - 1] || n.task_uuid || w.hu[w.i + 1:] AS hu,
                        w.hn[:w.i - 1] || n.namespace || w.hn[w.i + 1:] AS hn,
                        w.hv[:w.i - 1] || n.row_version || w.hv[w.i + 1:] AS hv
                 OFFSET 0) u
             CROSS JOIN LATERAL (
                 SELECT CASE WHEN cardinality(u.hu) = 1 THEN CASE WHEN u.hu[1] IS NOT NULL THEN 1 END
                        ELSE (SELECT i FROM generate_subscripts(u.hu, 1) AS i
                              WHERE u.hu[i] IS NOT NULL
                              ORDER BY u.hr[i], u.ha[i], u.hu[i] LIMIT 1) END AS i) m
             WHERE m.i IS NOT NULL)
        ), ready AS MATERIALIZED (
            SELECT w.task_uuid, w.rank, w.claimable_at, w.row_version, c.busy, c.fresh, c.oldest_start
            FROM walk w
            CROSS JOIN LATERAL (
                SELECT coalesce(bool_or(s.handler = ANY($1)
                         AND ((s.state = 'in_progress' AND s.lease_expires_at <= $3)
                           OR ((s.state = 'pending' OR (s.state = 'waiting_for_retry' AND (s.next_retry_at IS NULL OR s.next_retry_at <= $3)))
                             AND s.attempts < s.max_attempts
                             AND {Sql.QuerySql.ParentsSatisfied}))), false) AS ready,
                       count(*) FILTER (WHERE s.state = 'in_progress' AND s.lease_expires_at > $3) > 0 AS busy,
                       min(s.started_at) FILTER (WHERE s.state = 'in_progress' AND s.lease_expires_at > $3) AS oldest_start,
                       coalesce(bool_and(s.started_at > $5 AND s.claimed_by IS DISTINCT FROM $6)
                                FILTER (WHERE s.state = 'in_progress' AND s.lease_expires_at > $3), false) AS fresh
                FROM tasker_workflow_steps s
                WHERE s.task_uuid = w.task_uuid) c
            WHERE ($2::text[] IS NULL OR w.namespace = ANY($2)) AND c.ready
        ), looked AS (
            SELECT r.task_uuid, r.rank, r.claimable_at, r.busy, r.fresh, r.oldest_start, NOT r.busy AND NOT h.held AS passed
            FROM ready r
            CROSS JOIN LATERAL (
                SELECT CASE WHEN r.busy THEN false ELSE tasker_hold_task(r.task_uuid, r.row_version) END AS held) h
        ), found AS MATERIALIZED (
            SELECT l.task_uuid, l.rank, l.claimable_at, l.busy AND NOT l.fresh AS busy, l.passed, l.fresh, l.oldest_start
            FROM (SELECT l.*,
                         count(*) FILTER (WHERE l.passed) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS passed_so_far,
                         count(*) FILTER (WHERE l.fresh) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS fresh_so_far
                  FROM looked l) l
            WHERE NOT (l.passed OR l.fresh) OR (l.passed AND l.passed_so_far = 1) OR (l.fresh AND l.fresh_so_far = 1)
               OR l.passed_so_far + l.fresh_so_far > 256
            LIMIT $4)
        SELECT {Sql.TaskSql.LoadColumns}, f.task_uuid, f.passed, f.busy, f.fresh, f.oldest_start
        FROM found f
        LEFT JOIN LATERAL (SELECT * FROM tasker_tasks k WHERE k.task_uuid = f.task_uuid AND NOT f.passed AND NOT f.fresh) t ON true
        LEFT JOIN LATERAL ({Sql.TaskSql.LoadStepArrays}) s ON true
        ORDER BY f.rank, f.claimable_at, f.task_uuid
        """;

    /// <summary>
    /// The walk's test of a task row against the claimer's handlers ($7, <see cref="HandlerMask"/>): a bit in common
    /// with the handlers of its claimable steps (<c>work_mask</c>), or a mask not written with the row's current
    /// version (an older library's write, migration 13), which may be anything. Tested on the row each probe visits
    /// anyway; its generic selectivity (that of an inequality, most rows pass) keeps the probe a LIMIT 1 scan of the index.
    /// </summary>
    private const string MaybeMine = "((t.work_mask & $7) <> 0 OR t.work_mask_version IS DISTINCT FROM t.row_version)";

    /// <summary>The ordinal of the task uuid in <see cref="ClaimReadyTasks"/>'s rows (after the load columns).</summary>
    public const int FoundTaskUuid = 37;

    /// <summary>The ordinal of <c>passed</c> in <see cref="ClaimReadyTasks"/>'s rows: true for a task held or changed by another.</summary>
    public const int FoundPassed = 38;

    /// <summary>The ordinal of <c>busy</c> in <see cref="ClaimReadyTasks"/>'s rows: a worker is running a step of the task.</summary>
    public const int FoundBusy = 39;

    /// <summary>The ordinal of <c>fresh</c> in <see cref="ClaimReadyTasks"/>'s rows: left to another worker (work affinity).</summary>
    public const int FoundFresh = 40;

    /// <summary>The ordinal of the claim time of a task's oldest running step in <see cref="ClaimReadyTasks"/>'s rows.</summary>
    public const int FoundOldestStart = 41;

    /// <summary>
    /// Run in the claim's transaction before <see cref="ClaimReadyTasks"/>: its prepared statement runs its generic plan
    /// instead of being planned again for each call. PostgreSQL's plan cache kept choosing a custom plan for the find
    /// (its generic plan's estimated cost, from default selectivities, looked higher), and planning this statement costs
    /// about 0.7 ms, twice what running it does when the queue has work. The find is written so that its generic plan
    /// is the right one whatever the parameters: each probe is a LIMIT 1 scan of one index. <c>SET LOCAL</c>: ends
    /// with the transaction, so no other statement on the pooled connection is affected.
    /// </summary>
    public const string GenericPlan = "SET LOCAL plan_cache_mode = force_generic_plan";

    /// <summary>$1: the channel (<see cref="WorkChannel"/>).</summary>
    public const string Announce = "SELECT pg_notify($1, '')";
}
