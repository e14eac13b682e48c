using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Tasker.Core;
using Tasker.Postgres.Resilience;
using Tasker.Postgres.Tasks;

namespace Tasker.Postgres.Work;

/// <summary>
/// Worker mode on PostgreSQL: finds tasks with ready steps of a worker's handlers, announces new work with NOTIFY and
/// listens for other processes' announcements on one dedicated connection (opened on the first wait, re-opened
/// after a failure). A lost notification only delays a worker until its next poll. Claims run through
/// <paramref name="claims"/>: the connections the store sets apart for them (<see cref="Connection.DataSourceFactory.ClaimConnections"/>),
/// or its one pool.
/// </summary>
internal sealed class WorkQueue(StoreExecutor executor, StoreExecutor claims, Connection.IdleConnections connections, TaskShapeCache shapes, TaskCache cache, TaskGates gates,
    StoreCounters counters, TaskWriter writer, string channel, bool announcedTasks, ILogger log) : IAsyncDisposable
{
    private static readonly TimeSpan ListenRetryDelay = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stop = new();
    private Task? _listener;
    private Action? _wake;

    /// <summary>
    /// Payloads of tasks created since the last find came back empty (<see cref="Announcement"/>), oldest first; only
    /// with <see cref="PostgresStoreOptions.AnnounceCreatedTasks"/> (a process that does not send them claims from none).
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _announced = new();

    /// <summary>Announced tasks kept at most: a burst of creates is found by the find anyway.</summary>
    private const int MaxAnnounced = 64;

    /// <summary>
    /// The claim whose last find came back with nothing: its worker waits, so a task announced since is the work it
    /// would find next, and claiming that from its announcement jumps no queue. Taken (set to null) by the one claim of
    /// the same work that uses it; any find sets it again or clears it.
    /// </summary>
    private WorkQuery? _idleFor;

    /// <summary>
    /// Rows asked of the find beyond the caller's limit: the one row that says tasks were passed over. When none was,
    /// it is one more task found, held until the commit and left unclaimed; with the row the find's running count
    /// reads ahead, a claim holds at most two tasks it does not take. When both that row and the one saying a task was
    /// left to another worker (work affinity) come back, the claim may take one task fewer than it could: it comes back
    /// with what it has, and the next claim takes the rest.
    /// </summary>
    private const int SpareRows = 1;

    private readonly TaskShapeCache _shapes = shapes;
    private readonly TaskCache _cache = cache;
    private readonly TaskGates _gates = gates;

    /// <summary>Test seam: runs after each work claim's find and lock, before its change (lets a test let go of a lock).</summary>
    internal Action? AfterFind { get; set; }

    /// <summary>Test seam: pretend the reply to a committed claim was lost; given the first written task.</summary>
    internal Func<Guid, bool>? LoseReplyAfterCommit { get; set; }
    private readonly StoreCounters _counters = counters;
    private readonly TaskWriter _writer = writer;

    /// <summary>
    /// One transaction: find the ready tasks and lock those no worker is running a step of
    /// (<see cref="WorkSql.ClaimReadyTasks"/>, with the <c>BEGIN</c>), run the engine's claims on them, write every
    /// changed task in one statement with the <c>COMMIT</c> (<see cref="TaskWriter.WriteAndCommitAsync"/>: every row
    /// it writes is held). Two round trips whatever the number of tasks, locks held for one, never a
    /// wait for another's lock, and no race to lose. Busy tasks go back to the engine by uuid. Safe to run again
    /// from the start after a transient error (the resilience pipeline does): before the commit nothing happened; a
    /// commit whose reply was lost is settled by the next attempt (<see cref="ClaimInDoubt"/>).
    /// </summary>
    public async ValueTask<WorkFound> ClaimReadyTasksAsync(WorkQuery query, DateTimeOffset now, Action<IReadOnlyList<WorkflowTask>> change,
        Action<WorkflowTask>? committed, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _idleFor) is { } idle && !_announced.IsEmpty && SameWork(idle, query)
            && Interlocked.CompareExchange(ref _idleFor, null, idle) == idle
            && await TryClaimAnnouncedAsync(query, change, committed, cancellationToken).ConfigureAwait(false) is { } claimed)
            return claimed;
        return await FindAndClaimAsync(query, now, change, committed, cancellationToken).ConfigureAwait(false);
    }

    private ValueTask<WorkFound> FindAndClaimAsync(WorkQuery query, DateTimeOffset now, Action<IReadOnlyList<WorkflowTask>> change,
        Action<WorkflowTask>? committed, CancellationToken cancellationToken) =>
        claims.RunAsync("claim_work", (query, now, change, committed, doubt: new StrongBox<ClaimInDoubt?>(), self: this), static async (connection, s, token) =>
        {
            var self = s.self;
            if (s.doubt.Value is not null && await self.SettleAsync(connection, s.doubt, s.committed, token).ConfigureAwait(false) is { } settled)
                return settled;
            // This process's own changes of a found task wait for the claim (they take turns at the task's gate) and then
            // start from its committed copy in the task cache, instead of waiting for the row lock and losing their
            // compare-and-set to it. A task whose gate is taken (a change of it on its way here) is passed over.
            var turns = new List<TaskGates.Gate>();
            var done = false; // committed: nothing to roll back
            try
            {
                var (found, busy, passed, heldBackUntil) = await self.BeginFindAsync(connection, s.query, s.now, token).ConfigureAwait(false);
                // Tasks announced until now are this find's or the next one's to find; from here on, a waiting worker's.
                self._announced.Clear();
                Volatile.Write(ref self._idleFor, found.Count == 0 && busy.Count == 0 && !passed ? s.query : null);
                self.AfterFind?.Invoke();
                var rows = new List<TaskRow>(found.Count);
                foreach (var row in found)
                {
                    var gate = self._gates.Join(row.TaskUuid);
                    if (!gate.Turn.Wait(0))
                    {
                        self._gates.Leave(gate);
                        passed = true;
                        continue;
                    }
                    turns.Add(gate);
                    rows.Add(row);
                }
                var tasks = new List<WorkflowTask>(rows.Count);
                foreach (var row in rows)
                    tasks.Add(row.Build(await self._shapes.GetAsync(connection, row.DefinitionKey, row.TaskUuid, token).ConfigureAwait(false)));

                s.change(tasks);

                var (writes, _) = WritesOf(tasks, rows);
                HashSet<Guid> written;
                try
                {
                    written = writes.Count == 0 ? [] : await self._writer.WriteAndCommitAsync(connection, writes, token).ConfigureAwait(false);
                    if (writes.Count == 0)
                        await ExecuteAsync(connection, "COMMIT", self._counters, token).ConfigureAwait(false);
                    done = true;
                    if (written.Count > 0) self.MaybeLoseReply(writes);
                }
                catch (Exception e) when (writes.Count > 0 && TransientErrors.OutcomeUnknown(e))
                {
                    s.doubt.Value = new ClaimInDoubt(writes, new WorkFound(passed, busy, [], heldBackUntil));
                    throw; // the resilience pipeline runs the claim again, which settles the doubt first
                }

                var notPersisted = new HashSet<Guid>();
                foreach (var write in writes)
                {
                    if (written.Contains(write.Task.Uuid)) continue;
                    // Held since the find: cannot happen. Reported rather than handed back as claimed.
                    notPersisted.Add(write.Task.Uuid);
                    self._counters.Conflict();
                }
                Committed(writes.Where(w => written.Contains(w.Task.Uuid)), s.committed, self._counters, self._cache);
                return new WorkFound(passed || notPersisted.Count > 0, busy, notPersisted, heldBackUntil);
            }
            catch when (!done && connection.FullState == System.Data.ConnectionState.Open)
            {
                // Let go of the locks now, not when the pool resets the connection.
                try { await ExecuteAsync(connection, "ROLLBACK", self._counters, CancellationToken.None).ConfigureAwait(false); }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException) { }
                throw;
            }
            finally
            {
                self.LetGo(turns);
            }
        }, cancellationToken);

    /// <summary>
    /// <see cref="ClaimAnnouncedAsync"/>, or null when it failed: an announcement is anyone's to send (LISTEN and NOTIFY
    /// need no privilege), so one the database refuses (a NUL in a name) or the engine cannot compute a claim on must
    /// not fail the worker's claim; it finds work instead, and a lasting database failure shows there.
    /// </summary>
    private async ValueTask<WorkFound?> TryClaimAnnouncedAsync(WorkQuery query, Action<IReadOnlyList<WorkflowTask>> change,
        Action<WorkflowTask>? committed, CancellationToken cancellationToken)
    {
        try
        {
            return await ClaimAnnouncedAsync(query, change, committed, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Diagnostics.StoreLog.AnnouncedClaimFailed(log, e is TaskerException t ? t.Code.ToString() : e.GetType().Name);
            return null;
        }
    }

    /// <summary>
    /// A claim in one round trip, for a worker waiting for work: the engine claims on the announced copies of tasks
    /// created since its find came back empty (<see cref="Announcement"/>), and the claim goes out as one write statement,
    /// which commits on its own. The write checks each copy against the task's rows (row version 0 and every announced
    /// column: <see cref="Sql.TaskSql.WriteOneAnnounced"/>), so an announcement proves nothing by itself: a task another
    /// worker claimed first, that changed since, or whose announcement is not what was created (anyone who can connect
    /// can NOTIFY) is not written, and comes back as not persisted (its claims are dropped, and the engine looks again).
    /// A task written comes back with its request fields, put into its header before its claims go to the engine
    /// (<see cref="WorkFound.HeadersCompleted"/>). Only tasks of this claim's handlers and namespaces whose shape this process knows
    /// (no query), in order of work; null when there is none, or nothing could be written: the caller then finds work as
    /// usual, and the engine's change is run again on what the find returns.
    /// </summary>
    private ValueTask<WorkFound?> ClaimAnnouncedAsync(WorkQuery query, Action<IReadOnlyList<WorkflowTask>> change,
        Action<WorkflowTask>? committed, CancellationToken cancellationToken)
    {
        var candidates = new List<(TaskRow Row, string Payload)>();
        while (_announced.TryDequeue(out var payload))
        {
            if (Announcement.Read(payload) is not { } row) continue;
            // One copy a task (the write pairs copies with rows by uuid); a second, genuine or not, is left to the find.
            if (candidates.Exists(c => c.Row.TaskUuid == row.TaskUuid)) continue;
            if (query.Namespaces is { } ns && !ns.Contains(row.Header.Namespace)) continue;
            if (!_shapes.TryGet(row.DefinitionKey, out var shape) || shape.Steps.Length != row.StepCount
                || !shape.Steps.Any(d => query.Handlers.Contains(d.Handler))) continue;
            candidates.Add((row, payload));
        }
        if (candidates.Count == 0) return ValueTask.FromResult<WorkFound?>(null);
        // The engine takes tasks in order of work: highest priority, then oldest.
        if (candidates.Count > 1)
            candidates.Sort(static (a, b) => InOrderOfWork(a.Row, b.Row));
        if (candidates.Count > query.Limit)
            candidates.RemoveRange(query.Limit, candidates.Count - query.Limit);
        return claims.RunAsync("claim_announced", (candidates, attempts: new StrongBox<int>(), change, committed, doubt: new StrongBox<ClaimInDoubt?>(), self: this),
            static async (connection, s, token) =>
        {
            var self = s.self;
            if (s.doubt.Value is not null && await self.SettleAsync(connection, s.doubt, s.committed, token).ConfigureAwait(false) is { } settled)
                return settled;
            var turns = new List<TaskGates.Gate>();
            try
            {
                var tasks = new List<WorkflowTask>(s.candidates.Count);
                var rows = new List<TaskRow>(s.candidates.Count);
                // The first run of this body claims on the rows read above; a run after a transient error reads the payloads
                // again, to start from the copies as announced, not as the failed run's change left them (a row's task
                // shares its header). An attempt that failed before the body ran (opening a connection) changed nothing.
                var retry = s.attempts.Value++ > 0;
                foreach (var (read, payload) in s.candidates)
                {
                    var row = retry ? Announcement.Read(payload) : read;
                    if (row is null || !self._shapes.TryGet(row.DefinitionKey, out var shape) || shape.Steps.Length != row.StepCount) continue;
                    var gate = self._gates.Join(row.TaskUuid);
                    if (!gate.Turn.Wait(0))
                    {
                        self._gates.Leave(gate); // this process is changing it already: not a fresh task any more
                        continue;
                    }
                    turns.Add(gate);
                    tasks.Add(row.Build(shape));
                    rows.Add(row);
                }
                s.change(tasks);
                var (writes, announced) = WritesOf(tasks, rows);
                if (writes.Count == 0) return null;
                Dictionary<Guid, AnnouncedRequest> written;
                try
                {
                    written = await self._writer.WriteAnnouncedAsync(connection, writes, announced, token).ConfigureAwait(false);
                    if (written.Count > 0) self.MaybeLoseReply(writes);
                }
                catch (Exception e) when (TransientErrors.OutcomeUnknown(e))
                {
                    s.doubt.Value = new ClaimInDoubt(writes, new WorkFound(false, [], [], null, HeadersCompleted: true));
                    throw; // as in the find's claim: the next attempt settles it first
                }
                var notPersisted = new HashSet<Guid>();
                foreach (var write in writes)
                {
                    if (written.TryGetValue(write.Task.Uuid, out var request))
                    {
                        write.Task.Header = request.Complete(write.Task.Header); // before the task is cached or its claims returned
                        continue;
                    }
                    notPersisted.Add(write.Task.Uuid);
                    self._counters.Conflict();
                }
                if (written.Count == 0) return null;
                self._counters.AnnouncedClaim(written.Count);
                Committed(writes.Where(w => written.ContainsKey(w.Task.Uuid)), s.committed, self._counters, self._cache);
                return (WorkFound?)new WorkFound(notPersisted.Count > 0, [], notPersisted, null, HeadersCompleted: true);
            }
            finally
            {
                self.LetGo(turns);
            }
        }, cancellationToken);
    }

    /// <summary>
    /// The answer of a claim whose commit reply was lost, if its writes committed (<see cref="ClaimInDoubt"/>): what the
    /// claim's engine change claimed, committed now (its events, late: after any this process published meanwhile; a
    /// copy for the task cache only while the write is the row's last); a task whose write is not found goes back as
    /// not persisted. Null when none committed: the claim runs again. A transient error in the check leaves the doubt
    /// to the next attempt. A claim whose lease ran out during the retries is handed out all the same, as one whose
    /// answer came late: its report is refused as stale if another worker has taken the step over.
    /// </summary>
    private async ValueTask<WorkFound?> SettleAsync(NpgsqlConnection connection, StrongBox<ClaimInDoubt?> inDoubt,
        Action<WorkflowTask>? committed, CancellationToken cancellationToken)
    {
        var doubt = inDoubt.Value!;
        var landed = await doubt.LandedAsync(connection, _counters, cancellationToken).ConfigureAwait(false);
        inDoubt.Value = null;
        if (landed.Count == 0) return null;
        _counters.UnknownCommitRecovered();
        var notPersisted = new HashSet<Guid>();
        foreach (var write in doubt.Writes)
        {
            if (!landed.TryGetValue(write.Task.Uuid, out var found))
            {
                notPersisted.Add(write.Task.Uuid);
                _counters.Conflict();
            }
            else if (doubt.Answer.HeadersCompleted)
            {
                write.Task.Header = found.Request.Complete(write.Task.Header);
            }
        }
        if (doubt.Answer.HeadersCompleted) _counters.AnnouncedClaim(landed.Count);
        Committed(doubt.Writes.Where(w => landed.TryGetValue(w.Task.Uuid, out var f) && f.Current), committed, _counters, _cache);
        Committed(doubt.Writes.Where(w => landed.TryGetValue(w.Task.Uuid, out var f) && !f.Current), committed, _counters, null);
        return doubt.Answer with { PassedSome = doubt.Answer.PassedSome || notPersisted.Count > 0, NotPersisted = notPersisted };
    }

    private void MaybeLoseReply(List<TaskWrite> writes)
    {
        if (writes.Count > 0 && LoseReplyAfterCommit?.Invoke(writes[0].Task.Uuid) == true)
            throw new NpgsqlException("simulated: connection lost after the commit was sent", new IOException("simulated"));
    }

    /// <summary>The order of work: highest priority first, then oldest (then by uuid, for a stable order).</summary>
    private static int InOrderOfWork(TaskRow a, TaskRow b)
    {
        var byPriority = b.Header.Priority.CompareTo(a.Header.Priority);
        if (byPriority != 0) return byPriority;
        var byAge = a.Header.CreatedAt.CompareTo(b.Header.CreatedAt);
        return byAge != 0 ? byAge : a.TaskUuid.CompareTo(b.TaskUuid);
    }

    /// <summary>The writes of the tasks a claim changed, each against the row it was built from, and those rows.</summary>
    private static (List<TaskWrite> Writes, List<TaskRow> Rows) WritesOf(List<WorkflowTask> tasks, List<TaskRow> rows)
    {
        var writes = new List<TaskWrite>();
        var of = new List<TaskRow>();
        for (var i = 0; i < tasks.Count; i++)
        {
            var task = tasks[i];
            if (task.NewTransitions.Count == 0 && task.DirtySteps.Count == 0 && !task.HeaderDirty) continue;
            writes.Add(new TaskWrite(task, rows[i].RowVersion, rows[i].LastWriteUuid, rows[i].TransitionCount,
                new TransitionRows(task.NewTransitions, rows[i].TransitionCount + 1), Guid.CreateVersion7()));
            of.Add(rows[i]);
        }
        return (writes, of);
    }

    /// <summary>Gives back the turns a claim took at its tasks' gates.</summary>
    private void LetGo(List<TaskGates.Gate> turns)
    {
        foreach (var gate in turns)
        {
            gate.Turn.Release();
            _gates.Leave(gate);
        }
    }

    /// <summary>The same handlers and namespaces: what one claim's find found nothing of, the other would not either.</summary>
    private static bool SameWork(WorkQuery a, WorkQuery b) =>
        a.Handlers.SetEquals(b.Handlers) && (a.Namespaces is null ? b.Namespaces is null : b.Namespaces is not null && a.Namespaces.SetEquals(b.Namespaces));

    internal int AnnouncedCount => _announced.Count;

    /// <summary>
    /// An announcement from the listener: while a worker waits, keeps what it carries for that worker's next claim (read
    /// then; a payload that is not a task is dropped there). The oldest go first past <see cref="MaxAnnounced"/>.
    /// </summary>
    internal void Announced(string payload)
    {
        if (!announcedTasks || payload.Length == 0 || Volatile.Read(ref _idleFor) is null) return;
        _announced.Enqueue(payload);
        while (_announced.Count > MaxAnnounced && _announced.TryDequeue(out _)) { }
    }

    /// <summary>After the commit: counters, the engine's <c>committed</c> (events), and each task's copy for the cache (if any).</summary>
    private static void Committed(IEnumerable<TaskWrite> writes, Action<WorkflowTask>? committed, StoreCounters counters, TaskCache? cache)
    {
        foreach (var write in writes)
        {
            counters.Update();
            counters.StepsExecuted(write.Transitions.ExecutedSteps);
            var newTransitions = write.Task.NewTransitions.Count;
            try
            {
                committed?.Invoke(write.Task);
            }
            finally
            {
                write.Task.AcceptChanges();
                // Its worker's report comes next: that change then needs no load.
                cache?.Offer(new CachedTask(write.Task, write.RowVersion + 1, write.TransitionCount + newTransitions, write.WriteUuid));
            }
        }
    }

    /// <summary>
    /// <c>BEGIN</c>, <see cref="WorkSql.GenericPlan"/> and the find, in one round trip: the locked tasks' rows and the busy tasks' uuids, each in order of
    /// work, whether candidates were passed over (held or changed by another), and when the first task left to another
    /// worker (work affinity) stops being so.
    /// </summary>
    private async ValueTask<(List<TaskRow> Rows, List<Guid> Busy, bool Passed, DateTimeOffset? HeldBackUntil)> BeginFindAsync(NpgsqlConnection connection, WorkQuery query, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var rows = new List<TaskRow>();
        var busyRows = new List<TaskRow>();
        var passed = false;
        DateTimeOffset? heldBackUntil = null;
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(WorkSql.GenericPlan));
        var find = new NpgsqlBatchCommand(WorkSql.ClaimReadyTasks);
        find.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = query.Handlers.ToArray() });
        find.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
            Value = query.Namespaces is { } ns ? ns.ToArray() : DBNull.Value });
        find.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = now.UtcDateTime });
        find.Parameters.Add(new NpgsqlParameter<int> { TypedValue = query.Limit + SpareRows });
        find.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = (now - query.Affinity).UtcDateTime });
        find.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)query.WorkerId ?? DBNull.Value });
        find.Parameters.Add(new NpgsqlParameter<long> { TypedValue = HandlerMask.Of(query.Handlers) });
        batch.BatchCommands.Add(find);
        _counters.RoundTrip(1);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        // BEGIN and SET return no rows; the reader starts at the find's result (stepping on only if a driver showed theirs).
        while (reader.FieldCount == 0 && await reader.NextResultAsync(cancellationToken).ConfigureAwait(false)) { }
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (reader.GetBoolean(WorkSql.FoundPassed)) passed = true;
            else if (reader.GetBoolean(WorkSql.FoundFresh))
            {
                var since = new DateTimeOffset(reader.GetFieldValue<DateTime>(WorkSql.FoundOldestStart), TimeSpan.Zero) + query.Affinity;
                heldBackUntil = heldBackUntil is { } earlier && earlier < since ? earlier : since;
            }
            else if (reader.GetBoolean(WorkSql.FoundBusy)) busyRows.Add(TaskRow.Read(reader, reader.GetGuid(WorkSql.FoundTaskUuid)));
            else if (rows.Count < query.Limit) rows.Add(TaskRow.Read(reader, reader.GetGuid(WorkSql.FoundTaskUuid)));
        }
        reader.Close();
        // A busy task's own claim starts from this copy unless this process holds a newer one.
        var busy = new List<Guid>(busyRows.Count);
        foreach (var row in busyRows)
        {
            var shape = await _shapes.GetAsync(connection, row.DefinitionKey, row.TaskUuid, cancellationToken).ConfigureAwait(false);
            _cache.Offer(new CachedTask(row.Build(shape), row.RowVersion, row.TransitionCount, row.LastWriteUuid));
            busy.Add(row.TaskUuid);
        }
        return (rows, busy, passed, heldBackUntil);
    }

    private static async ValueTask ExecuteAsync(NpgsqlConnection connection, string sql, StoreCounters counters, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        counters.RoundTrip(1);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>NOTIFY of changes that made steps ready, coalesced (see <see cref="Work.Announcer"/>).</summary>
    public Announcer Announcer { get; } = new(executor, channel, log, Announcer.ChangeWindow);

    /// <summary>NOTIFY of created tasks, in a window of its own (<see cref="Announcer.CreateWindow"/>).</summary>
    public Announcer CreateAnnouncer { get; } = new(executor, channel, log, Announcer.CreateWindow, Announcer.CreateCarryOver);

    /// <summary>This store's NOTIFY channel (<see cref="WorkChannel"/>).</summary>
    public string Channel => channel;

    public ValueTask AnnounceAsync(CancellationToken cancellationToken) => Announcer.AnnounceAsync(cancellationToken);

    /// <summary>Starts the listener once; <paramref name="wake"/> runs on every notification.</summary>
    public void Listen(Action wake)
    {
        if (Interlocked.CompareExchange(ref _wake, wake, null) is not null) return;
        _listener = Task.Run(ListenLoopAsync);
    }

    private async Task ListenLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                // Held for as long as it listens, then given back to Npgsql's pool (not kept idle: it still listens).
                var connection = await connections.RentAsync(_stop.Token).ConfigureAwait(false);
                try
                {
                    connection.Notification += (_, e) =>
                    {
                        Announced(e.Payload);
                        _wake?.Invoke();
                    };
                    await using (var listen = new NpgsqlCommand(WorkChannel.Listen(channel), connection))
                        await listen.ExecuteNonQueryAsync(_stop.Token).ConfigureAwait(false);
                    _wake?.Invoke(); // work may have appeared while no one listened
                    while (!_stop.IsCancellationRequested)
                        await connection.WaitAsync(_stop.Token).ConfigureAwait(false);
                }
                finally
                {
                    await connections.ReturnAsync(connection, reusable: false).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or IOException)
            {
                // Workers still poll meanwhile; try again shortly.
                Diagnostics.StoreLog.ListenerLost(log, e.GetType().Name);
                try { await Task.Delay(ListenRetryDelay, _stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Announcer.Dispose();
        CreateAnnouncer.Dispose();
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_listener is not null)
        {
            try { await _listener.ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        _stop.Dispose();
    }
}
