using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Resilience;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// <see cref="Tasker.Core.Storage.IStore.UpdateTaskAsync{T}"/> for PostgreSQL. The fast path holds no lock across
/// the network:
/// <list type="number">
/// <item>take the aggregate this process committed last (<see cref="TaskCache"/>), or load it: one row with the
/// header and the step arrays, the immutable shape from <see cref="TaskShapeCache"/>;</item>
/// <item>run the engine's change in memory;</item>
/// <item>write back dirty steps, header and transitions in one compare-and-set statement on <c>row_version</c>,
/// together with the writes of other tasks ready at the same moment in this process (<see cref="WriteBatcher"/>).</item>
/// </list>
/// A steady claim → complete → claim sequence on one task therefore costs one statement per change. If another
/// process wrote the task in between, the write changes nothing and the change is re-run on fresh state; after a
/// second lost race it runs under <c>SELECT ... FOR UPDATE</c> (lock and load in one batch, write, commit), which
/// cannot lose. Either way the header update takes the row lock, so exactly one of two processes finishing a task's
/// last steps records its final transition.
/// <para>
/// Only outcomes computed on state proven current are returned: a successful compare-and-set proves it, and so
/// does a fresh load. An engine error or a no-op computed on a cached aggregate is therefore not trusted: the change
/// is re-run on freshly loaded state (the change is pure with respect to the aggregate it is given, and every run
/// gets its own instance).
/// </para>
/// <para>
/// Safe to retry: each write stamps <c>last_write_uuid</c>. When the connection breaks after a write was sent —
/// commit outcome unknown — the retry loads the task and reads that stamp: if the write did commit, the first
/// attempt's result is returned (and its events published) instead of re-running the change, so a completion is
/// recorded once and its caller is told it succeeded.
/// </para>
/// </summary>
internal sealed class TaskUpdater(StoreExecutor executor, TaskShapeCache shapes, TaskCache cache, StoreCounters counters, TaskWriter writer)
{
    private readonly WriteBatcher _batcher = new(writer);

    /// <summary>Test seam: writes queued behind the batch statement on the wire.</summary>
    internal int QueuedWrites => _batcher.Queued;
    private readonly TaskShapeCache _shapes = shapes;
    private readonly StoreCounters _counters = counters;
    private readonly TaskWriter _writer = writer;

    private enum Mode { Cached, Fresh, Locked }

    /// <summary>Test seam: runs just before each write (lets a test make another process write first).</summary>
    internal Action<Guid>? BeforeWrite { get; set; }

    /// <summary>Test seam: pretend the reply to a committed write was lost (the commit-outcome-unknown case).</summary>
    internal Func<Guid, bool>? LoseReplyAfterCommit { get; set; }

    /// <summary>Carried across attempts of one update: how to read next, and a write whose commit is in doubt.</summary>
    private sealed class Attempts<T>(Guid taskUuid, Func<WorkflowTask, T> change, Action<WorkflowTask>? committed)
    {
        public Guid TaskUuid { get; } = taskUuid;
        public Func<WorkflowTask, T> Change { get; } = change;
        public Action<WorkflowTask>? Committed { get; } = committed;
        public Mode Mode { get; set; } = Mode.Cached;
        public (Guid WriteUuid, (int Ordinal, Guid Uuid)? Transition, T Result, WorkflowTask Task)? InDoubt { get; set; }
    }

    /// <summary>Runs a change of the task and writes it back, again on fresh state after a lost compare-and-set.</summary>
    public ValueTask<T> UpdateAsync<T>(Guid taskUuid, Func<WorkflowTask, T> change, Action<WorkflowTask>? committed, CancellationToken cancellationToken) =>
        executor.RunLeasedAsync("update_task", (this, new Attempts<T>(taskUuid, change, committed)),
            static (lease, s, token) => s.Item1.AttemptAsync(lease, s.Item2, token), cancellationToken);

    /// <summary>Reads always load: a snapshot handed to callers must be current, not this process's last write.</summary>
    public ValueTask<T> ReadAsync<T>(Guid taskUuid, Func<WorkflowTask, T> read, CancellationToken cancellationToken) =>
        executor.RunAsync("read_task", (this, taskUuid, read), static async (connection, s, token) =>
        {
            var (self, taskUuid, read) = s;
            var row = await TaskReader.LoadAsync(connection, null, taskUuid, self._counters, token).ConfigureAwait(false);
            var shape = await self._shapes.GetAsync(connection, row.DefinitionKey, taskUuid, token).ConfigureAwait(false);
            return read(row.Build(shape));
        }, cancellationToken);

    /// <summary>
    /// One attempt. The connection is taken only when needed: not at all for a change of a cached task whose write
    /// another's batch carries (<see cref="WriteBatcher"/>).
    /// </summary>
    private async ValueTask<T> AttemptAsync<T>(ConnectionLease lease, Attempts<T> attempts, CancellationToken cancellationToken)
    {
        if (attempts.InDoubt is not null && attempts.Mode == Mode.Cached)
            attempts.Mode = Mode.Fresh; // settling a doubt needs the committed stamp, i.e. a load
        while (true)
        {
            var mode = attempts.Mode;
            await using var transaction = mode == Mode.Locked
                ? await (await lease.GetAsync(cancellationToken).ConfigureAwait(false)).BeginTransactionAsync(cancellationToken).ConfigureAwait(false)
                : null;

            WorkflowTask task;
            long rowVersion;
            Guid? basedOnWrite;
            int transitionCount;
            if (mode == Mode.Cached && cache.TryTake(attempts.TaskUuid, out var cached))
            {
                (task, rowVersion, basedOnWrite, transitionCount) = (cached.Task, cached.RowVersion, cached.WriteUuid, cached.TransitionCount);
            }
            else
            {
                if (mode == Mode.Cached) mode = Mode.Fresh; // nothing cached: this load is fresh
                var connection = await lease.GetAsync(cancellationToken).ConfigureAwait(false);
                var row = await TaskReader.LoadAsync(connection, transaction, attempts.TaskUuid, _counters, cancellationToken).ConfigureAwait(false);
                if (attempts.InDoubt is { } doubt)
                {
                    // The stamp proves it unless someone wrote after us; our first transition row proves it always.
                    var landed = row.LastWriteUuid == doubt.WriteUuid ||
                        doubt.Transition is { } transition && await TaskReader.TransitionExistsAsync(connection, transaction, attempts.TaskUuid, transition.Ordinal, transition.Uuid, _counters, cancellationToken).ConfigureAwait(false);
                    // Settled only now: a transient error in the check above leaves the doubt to the next attempt.
                    attempts.InDoubt = null;
                    if (landed)
                    {
                        // The earlier attempt's commit went through; only its reply was lost.
                        _counters.UnknownCommitRecovered();
                        _counters.Update();
                        Finish(attempts, doubt.Task);
                        return doubt.Result;
                    }
                }
                var shape = await _shapes.GetAsync(connection, row.DefinitionKey, attempts.TaskUuid, cancellationToken).ConfigureAwait(false);
                (task, rowVersion, basedOnWrite, transitionCount) = (row.Build(shape), row.RowVersion, row.LastWriteUuid, row.TransitionCount);
            }

            T result;
            try
            {
                result = attempts.Change(task);
            }
            catch (TaskerException) when (mode == Mode.Cached)
            {
                attempts.Mode = Mode.Fresh; // judged on possibly stale state: judge again on fresh state
                continue;
            }

            if (task.NewTransitions.Count == 0 && task.DirtySteps.Count == 0 && !task.HeaderDirty)
            {
                // Nothing to persist (a claim that found nothing, an evaluation that changed nothing).
                if (mode == Mode.Cached)
                {
                    attempts.Mode = Mode.Fresh; // "nothing to do" is only true of current state
                    continue;
                }
                if (transaction is not null)
                {
                    _counters.RoundTrip(1);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
                Finish(attempts, task);
                cache.Put(new CachedTask(task, rowVersion, transitionCount, basedOnWrite));
                return result;
            }

            var write = new TaskWrite(task, rowVersion, basedOnWrite, transitionCount, new TransitionRows(task.NewTransitions, transitionCount + 1), Guid.CreateVersion7());
            bool written;
            BeforeWrite?.Invoke(attempts.TaskUuid);
            try
            {
                if (transaction is null)
                {
                    written = await _batcher.WriteAsync(lease, write).ConfigureAwait(false);
                }
                else
                {
                    written = (await _writer.WriteAsync(transaction.Connection!, transaction, [write], cancellationToken).ConfigureAwait(false)).Count == 1;
                    if (written)
                    {
                        _counters.RoundTrip(1);
                        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                if (written && LoseReplyAfterCommit?.Invoke(attempts.TaskUuid) == true)
                    throw new NpgsqlException("simulated: connection lost after the commit was sent", new IOException("simulated"));
            }
            catch (Exception e) when (TransientErrors.OutcomeUnknown(e))
            {
                attempts.InDoubt = (write.WriteUuid, write.Transitions.First, result, task);
                throw; // the resilience pipeline retries; the next attempt settles the doubt first
            }

            if (!written)
            {
                if (mode == Mode.Locked)
                    throw new InvalidOperationException($"task {attempts.TaskUuid} changed while its row lock was held");
                _counters.Conflict();
                attempts.Mode = mode == Mode.Cached ? Mode.Fresh : Mode.Locked;
                continue;
            }

            _counters.Update();
            if (mode == Mode.Locked) _counters.LockedUpdate();
            _counters.StepsExecuted(write.Transitions.ExecutedSteps);
            var committedTransitions = transitionCount + task.NewTransitions.Count;
            Finish(attempts, task);
            cache.Put(new CachedTask(task, rowVersion + 1, committedTransitions, write.WriteUuid));
            return result;
        }
    }

    private static void Finish<T>(Attempts<T> attempts, WorkflowTask task)
    {
        try
        {
            attempts.Committed?.Invoke(task);
        }
        finally
        {
            task.AcceptChanges();
        }
    }
}
