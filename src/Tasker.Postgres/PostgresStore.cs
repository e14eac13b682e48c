using Microsoft.Extensions.Logging;
using Npgsql;
using Tasker.Core;
using Tasker.Core.Storage;
using Tasker.Core.Templates;
using Tasker.Postgres.Connection;
using Tasker.Postgres.Migrations;
using Tasker.Postgres.Queries;
using Tasker.Postgres.Resilience;
using Tasker.Postgres.Tasks;
using Tasker.Postgres.Templates;

namespace Tasker.Postgres;

/// <summary>
/// The durable store: any number of processes on any number of machines share one PostgreSQL database. The engine
/// keeps every rule; this store provides mutual exclusion per task (a compare-and-set on the task row, falling back
/// to its row lock), atomic write-back of each change, and an append-only audit trail. Every operation runs under
/// a timeout, retries transient failures with jittered backoff and is guarded by a circuit breaker; each is safe to
/// repeat (see <see cref="TaskUpdater"/> for how a lost commit reply is settled). Thread-safe; one per process.
/// </summary>
public sealed class PostgresStore : IStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresStoreOptions _options;
    private readonly StoreCounters _counters = new();
    private readonly StoreExecutor _executor;
    private readonly StoreExecutor _migrations;
    private readonly TaskShapeCache _shapes;
    private readonly RecordedDefinitions _recorded;
    private readonly TaskCache _tasks;
    private readonly TaskGates _gates = new();
    private readonly TemplateRepository _templates;
    private readonly TaskUpdater _updater;
    private readonly TaskQueries _queries;
    private readonly Work.WorkQueue _work;
    private readonly NpgsqlDataSource? _claimSource;
    private readonly IdleConnections _connections;
    private readonly IdleConnections? _claimConnections;
    private readonly StoreExecutor _claims;
    private readonly OperatorQueries _operator;
    private readonly Timer? _retention;
    private int _pruning;

    public PostgresStore(PostgresStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        string? password;
        try
        {
            _dataSource = DataSourceFactory.Create(options);
            _claimSource = DataSourceFactory.CreateForClaims(options);
            // Kept only to scrub it from error messages, should a driver message ever quote it.
            password = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Normalize(options.ConnectionString)).Password;
        }
        catch (ArgumentException e)
        {
            // Npgsql's message can quote the offending part of the connection string: never pass it on.
            throw new TaskerException(TaskerErrorCode.InvalidArgument,
                "invalid PostgreSQL connection string: " + PostgresConnectionString.Mask(e.Message),
                new Dictionary<string, string> { ["field"] = "connection_string" });
        }
        _connections = new IdleConnections(_dataSource);
        _executor = new StoreExecutor(_connections, StorePipeline.Build(options, _counters, options.OperationTimeout), password);
        // A migration may wait for another process's migration and then run DDL on big tables: not an
        // operation-timeout matter. The advisory-lock wait has its own limit (MigrationLockTimeout).
        _migrations = new StoreExecutor(_connections, StorePipeline.Build(options, _counters, options.MigrationLockTimeout + TimeSpan.FromMinutes(30)), password);
        _claimConnections = _claimSource is null ? null : new IdleConnections(_claimSource);
        _claims = _claimConnections is null
            ? _executor
            : new StoreExecutor(_claimConnections, StorePipeline.Build(options, _counters, options.OperationTimeout), password);
        _shapes = new TaskShapeCache(options.ShapeCacheSize, _counters);
        _recorded = new RecordedDefinitions(options.ShapeCacheSize);
        _templates = new TemplateRepository(_executor, _counters);
        _tasks = new TaskCache(options.TaskCacheSize);
        var writer = new TaskWriter(_counters, options.DurableClaims);
        _updater = new TaskUpdater(_executor, _shapes, _tasks, _counters, writer);
        _queries = new TaskQueries(_executor, _counters);
        _work = new Work.WorkQueue(_executor, _claims, _connections, _shapes, _tasks, _gates, _counters, writer, Work.WorkChannel.For(options.Schema),
            options.AnnounceCreatedTasks, options.LoggerFactory.CreateLogger(Diagnostics.StoreLog.Category));
        _operator = new OperatorQueries(_executor, _counters);
        if (options.FinishedTaskRetention is not null)
            _retention = WeakTimer.Start(this, static self => _ = self.SweepAsync(), options.RetentionInterval);
    }

    /// <summary>One retention sweep (<see cref="PostgresStoreOptions.FinishedTaskRetention"/>); never two at once, never throws.</summary>
    internal async Task SweepAsync()
    {
        if (Interlocked.Exchange(ref _pruning, 1) == 1) return;
        var log = _options.LoggerFactory.CreateLogger(Diagnostics.StoreLog.Category);
        try
        {
            var before = DateTimeOffset.UtcNow - _options.FinishedTaskRetention!.Value;
            var deleted = await PruneFinishedAsync(before).ConfigureAwait(false);
            if (deleted > 0) Diagnostics.StoreLog.Pruned(log, deleted, before);
        }
#pragma warning disable CA1031 // a background sweep must not crash the host; the next one retries
        catch (Exception e)
#pragma warning restore CA1031
        {
            Diagnostics.StoreLog.PruneFailed(log, Diagnostics.StoreLog.Kind(e), _options.RetentionInterval.TotalSeconds);
        }
        finally
        {
            Volatile.Write(ref _pruning, 0);
        }
    }

    /// <summary>Creates a store and, when <see cref="PostgresStoreOptions.MigrateOnOpen"/> is set, applies pending migrations.</summary>
    public static async ValueTask<PostgresStore> OpenAsync(PostgresStoreOptions options, CancellationToken cancellationToken = default)
    {
        var store = new PostgresStore(options);
        if (options.MigrateOnOpen)
        {
            try
            {
                await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await store.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        return store;
    }

    /// <summary>Test seam: runs store operations the way the store does (connection, resilience, error mapping).</summary>
    internal StoreExecutor Executor => _executor;

    /// <summary>Test seam: see <see cref="TaskUpdater.BeforeWrite"/>.</summary>
    internal Action<Guid>? BeforeWrite
    {
        get => _updater.BeforeWrite;
        set => _updater.BeforeWrite = value;
    }

    /// <summary>Test seam: see <see cref="TaskUpdater.QueuedWrites"/>.</summary>
    internal int QueuedWrites => _updater.QueuedWrites;

    /// <summary>Test seam: created tasks announced to this process's workers and not looked at yet.</summary>
    internal int AnnouncedTasks => _work.AnnouncedCount;

    /// <summary>Test seam: see <see cref="Work.WorkQueue.AfterFind"/>.</summary>
    internal Action? AfterWorkFind
    {
        get => _work.AfterFind;
        set => _work.AfterFind = value;
    }

    /// <summary>Test seam: see <see cref="TaskUpdater.LoseReplyAfterCommit"/> and <see cref="Work.WorkQueue.LoseReplyAfterCommit"/> (set together; read from the first).</summary>
    internal Func<Guid, bool>? LoseReplyAfterCommit
    {
        get => _updater.LoseReplyAfterCommit;
        set => _updater.LoseReplyAfterCommit = _work.LoseReplyAfterCommit = value;
    }

    /// <summary>What this store has sent to PostgreSQL so far (statements, round trips, conflicts, retries, ...).</summary>
    public PostgresStoreStatistics Statistics => _counters.Snapshot();

    /// <summary>The connection pool, for hosts that want to share it (health checks, their own queries).</summary>
    public NpgsqlDataSource DataSource => _dataSource;

    /// <summary>
    /// Applies the embedded migrations that this database lacks. Safe to call from many processes at once and
    /// repeatedly (an advisory lock serializes them; applied versions are skipped).
    /// </summary>
    public async ValueTask MigrateAsync(CancellationToken cancellationToken)
    {
        var applied = await _migrations.RunAsync("migrate", new Migrator(_options),
            static (connection, migrator, token) => migrator.MigrateAsync(connection, token), cancellationToken).ConfigureAwait(false);
        var log = _options.LoggerFactory.CreateLogger(Diagnostics.StoreLog.Category);
        foreach (var version in applied)
            Diagnostics.StoreLog.MigrationApplied(log, version, _options.Schema ?? "public");
    }

    public ValueTask SaveTemplateAsync(TaskTemplate template, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(template);
        return _templates.SaveAsync(template, cancellationToken);
    }

    public ValueTask<TaskTemplate?> FindTemplateAsync(string ns, string name, string? version, CancellationToken cancellationToken) =>
        _templates.FindAsync(ns, name, version, cancellationToken);

    /// <summary>The template as this process last found it: no query after the first (see <see cref="TemplateRepository"/>).</summary>
    public ValueTask<TaskTemplate?> FindTemplateToCreateAsync(string ns, string name, string? version, CancellationToken cancellationToken) =>
        _templates.FindKnownAsync(ns, name, version, cancellationToken);

    /// <exception cref="TemplateChangedException">The template was changed by another process since this one looked it up.</exception>
    public async ValueTask<(Guid TaskUuid, bool Created)> CreateTaskAsync(WorkflowTask task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        var key = _shapes.KeyOf(task);
        var h = task.Header;
        var fingerprint = _templates.FingerprintOf(h.Namespace, h.Name);
        // Under a host's TransactionScope what this create writes commits with the host's transaction, if ever.
        var hostTransaction = System.Transactions.Transaction.Current;
        var ambient = hostTransaction is not null;
        // Announced in the insert itself when due; inside the coalescing window, later (see Announcer.CreateWindow).
        // A create that may not commit soon does not carry what earlier creates owe.
        var announce = _work.CreateAnnouncer.DueNow(mayCarry: !ambient);
        var carry = announce && _options.AnnounceCreatedTasks;
        var known = _recorded.Contains(key);
        (Guid TaskUuid, bool Created, bool TemplateChanged) created;
        try
        {
            created = await _executor.RunAsync("create_task", (task, key, known, fingerprint, announce, carry, _work.Channel, _counters), static (connection, s, token) =>
                TaskInserter.InsertAsync(connection, s.task, s.key, s.known, s.fingerprint, s.announce, s.carry, s.Channel, s._counters, token), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // It may have committed (a lost reply), and it may have carried what earlier creates owe: one follows.
            _work.CreateAnnouncer.Deferred();
            throw;
        }
        // A task created unannounced (inside the window), or an announcement due that went unsent (nothing created): one follows.
        if (created.Created != announce)
            _work.CreateAnnouncer.Deferred();
        if (created.TemplateChanged)
        {
            _templates.Forget(h.Namespace, h.Name);
            throw new TemplateChangedException(h.Namespace, h.Name);
        }
        var transitions = task.NewTransitions.Count;
        task.AcceptChanges();
        if (created.Created && created.TaskUuid == task.Uuid)
        {
            // The engine does not touch the instance again: it becomes this process's committed copy (the first
            // claim then needs no load), and its shape is known without a query.
            _shapes.Remember(key, task);
            _tasks.Put(new CachedTask(task, RowVersion: 0, TransitionCount: transitions, WriteUuid: null));
            if (hostTransaction is null) _recorded.Add(key);
            else SettleWith(hostTransaction, task.Uuid, key);
        }
        return (created.TaskUuid, created.Created);
    }

    /// <summary>
    /// A task created inside a host's transaction exists only once that transaction commits: then its definition is
    /// known to be recorded; otherwise this process's copy of the task goes (the shape stays: it is the definition's,
    /// whoever created it). An outcome in doubt counts as not committed.
    /// </summary>
    private void SettleWith(System.Transactions.Transaction hostTransaction, Guid taskUuid, string definitionKey) =>
        hostTransaction.TransactionCompleted += (_, completed) =>
        {
            if (completed.Transaction?.TransactionInformation.Status == System.Transactions.TransactionStatus.Committed)
                _recorded.Add(definitionKey);
            else
                _tasks.TryTake(taskUuid, out var _);
        };

    /// <summary>This process's committed copies of tasks (tests).</summary>
    internal TaskCache CachedTasks => _tasks;

    public async ValueTask<T> UpdateTaskAsync<T>(Guid taskUuid, Func<WorkflowTask, T> change, Action<WorkflowTask>? committed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var gate = _gates.Join(taskUuid);
        try
        {
            await gate.Turn.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await _updater.UpdateAsync(taskUuid, change, committed, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                gate.Turn.Release();
            }
        }
        finally
        {
            _gates.Leave(gate);
        }
    }

    public ValueTask<T> ReadTaskAsync<T>(Guid taskUuid, Func<WorkflowTask, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        return _updater.ReadAsync(taskUuid, read, cancellationToken);
    }

    public ValueTask<IReadOnlyList<TransitionRecord>> GetTransitionsAsync(Guid taskUuid, CancellationToken cancellationToken) =>
        _queries.GetTransitionsAsync(taskUuid, cancellationToken);

    public ValueTask<IReadOnlyList<TaskSummary>> ListTasksAsync(TaskQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return _queries.ListTasksAsync(query, cancellationToken);
    }

    public ValueTask<StaleWork> ListStaleWorkAsync(DateTimeOffset now, int limit, StaleThresholds thresholds, CancellationToken cancellationToken) =>
        _queries.ListStaleWorkAsync(now, limit, thresholds, cancellationToken);

    public ValueTask<WorkCounts> CountWorkAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        _queries.CountWorkAsync(now, cancellationToken);

    public ValueTask<StoreStats> GetStatsAsync(CancellationToken cancellationToken) =>
        _queries.GetStatsAsync(_options.MaxPoolSize, () => _executor.ConnectionsInUse + (_claims == _executor ? 0 : _claims.ConnectionsInUse), cancellationToken);

    public ValueTask<WorkFound> ClaimReadyTasksAsync(WorkQuery query, DateTimeOffset now, Action<IReadOnlyList<WorkflowTask>> change,
        Action<WorkflowTask>? committed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(change);
        return _work.ClaimReadyTasksAsync(query, now, change, committed, cancellationToken);
    }

    public ValueTask AnnounceWorkAsync(CancellationToken cancellationToken) => _work.AnnounceAsync(cancellationToken);

    public void ListenForWork(Action wake) => _work.Listen(wake);

    /// <summary>Every registered template version (namespace, name, newest version first).</summary>
    public ValueTask<IReadOnlyList<TemplateSummary>> ListTemplatesAsync(CancellationToken cancellationToken = default) =>
        _operator.ListTemplatesAsync(cancellationToken);

    /// <summary>
    /// The dead rows of tasker_tasks and tasker_workflow_steps and when autovacuum will clear them (see
    /// <see cref="TableHealth"/>): an operator's early warning that work claims will slow down.
    /// </summary>
    public ValueTask<IReadOnlyList<TableHealth>> GetTableHealthAsync(CancellationToken cancellationToken = default) =>
        _operator.GetTableHealthAsync(cancellationToken);

    /// <summary>
    /// Deletes tasks finished before <paramref name="finishedBefore"/> (complete, cancelled or resolved; with
    /// <paramref name="includeErrors"/> also those that ended in error) with their steps and audit trail, in batches
    /// of <paramref name="batchSize"/>, each its own short transaction. Returns how many tasks were deleted.
    /// </summary>
    public async ValueTask<long> PruneFinishedAsync(DateTimeOffset finishedBefore, bool includeErrors = false, int batchSize = 500,
        CancellationToken cancellationToken = default)
    {
        if (batchSize is < 1 or > 10_000)
            throw TaskerException.InvalidArgument("batch size must be between 1 and 10000", "batch_size");
        long total = 0;
        while (true)
        {
            var deleted = await _operator.PruneBatchAsync(finishedBefore, includeErrors, batchSize, cancellationToken).ConfigureAwait(false);
            foreach (var uuid in deleted)
                _tasks.TryTake(uuid, out _); // this process's copy of a deleted task must not outlive it
            total += deleted.Count;
            if (deleted.Count < batchSize) return total;
        }
    }

    private int _disposed;

    /// <summary>Stops the listener and retention and closes the pool; a second call does nothing (an engine disposes its store too).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        if (_retention is not null) await _retention.DisposeAsync().ConfigureAwait(false);
        await _work.DisposeAsync().ConfigureAwait(false);
        // The connections kept idle first: the data sources close only the connections in their own pools.
        await _connections.DisposeAsync().ConfigureAwait(false);
        if (_claimConnections is not null) await _claimConnections.DisposeAsync().ConfigureAwait(false);
        await _dataSource.DisposeAsync().ConfigureAwait(false);
        if (_claimSource is not null) await _claimSource.DisposeAsync().ConfigureAwait(false);
    }
}
