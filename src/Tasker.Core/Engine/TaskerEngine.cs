using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tasker.Core.Events;
using Tasker.Core.Logging;
using Tasker.Core.Storage;
using Tasker.Core.Storage.Memory;
using Tasker.Core.Telemetry;
using Tasker.Core.Templates;

namespace Tasker.Core;

/// <summary>
/// The workflow engine: templates in, tasks out, and the step lifecycle in between. Hosts pull work (claim), run
/// their handlers, and report back (complete / fail); every call that changes a task returns a
/// <see cref="TaskOutcome"/> telling the host what to do next. Thread-safe; one engine per process is typical.
/// </summary>
public sealed partial class TaskerEngine : IAsyncDisposable
{
    private readonly IStore _store;
    private readonly TaskLifecycle _lifecycle;
    private readonly ILogger _log;
    private readonly Action<WorkflowTask> _publish;
    private readonly Func<WorkflowTask, TaskOutcome> _evaluate; // one delegate, not one per call
    private readonly WorkSignal _work = new();

    public TaskerEngine(IStore store, TaskerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        Options = options ?? new TaskerOptions();
        Options.Validate();
        _store = store;
        _log = Options.LoggerFactory.CreateLogger(EngineLog.Category);
        Events = new EventBus { DefaultCapacity = Options.EventBufferCapacity };
        _lifecycle = new TaskLifecycle(Options, _log, Events);
        _publish = Committed;
        _evaluate = _lifecycle.Evaluate;
    }

    /// <summary>
    /// Runs once the store has persisted a change: its events, log records, metrics and spans go out, never before. A
    /// listener that throws (a logger provider, a meter or activity listener) cannot undo the change: it is logged, and the
    /// store goes on with the rest of its batch.
    /// </summary>
    private void Committed(WorkflowTask task)
    {
        Events.Publish(task.NewEvents);
        if (task.OnCommit is not { } effects) return;
        foreach (var effect in effects)
        {
            try
            {
                effect(_log);
            }
            catch (Exception e)
            {
                EngineLog.AfterCommitFailed(_log, task.Uuid, e.GetType().Name);
            }
        }
    }

    /// <summary>An engine on the embedded memory store.</summary>
    public static TaskerEngine InMemory(TaskerOptions? options = null)
    {
        options ??= new TaskerOptions();
        return new TaskerEngine(new MemoryStore(options.MaxFinishedTasks), options);
    }

    public TaskerOptions Options { get; }

    public EventBus Events { get; }

    public IStore Store => _store;

    private DateTimeOffset Now => Options.Time.GetUtcNow();

    public ValueTask MigrateAsync(CancellationToken cancellationToken = default) => _store.MigrateAsync(cancellationToken);

    /// <summary>Parses, validates and registers a template (YAML or JSON, core or Rails format).</summary>
    public async ValueTask<TaskTemplate> RegisterTemplateAsync(string text, CancellationToken cancellationToken = default)
    {
        var template = TemplateParser.Parse(text, new TemplateParseOptions { Environment = Options.Environment });
        await RegisterTemplateAsync(template, cancellationToken).ConfigureAwait(false);
        return template;
    }

    public async ValueTask RegisterTemplateAsync(TaskTemplate template, CancellationToken cancellationToken = default)
    {
        await _store.SaveTemplateAsync(template, cancellationToken).ConfigureAwait(false);
        EngineLog.TemplateRegistered(_log, template.Namespace, template.Name, template.Version.ToString(), template.Steps.Count);
        if (Events.IsWanted(EventNames.TemplateRegistered))
            Events.Publish(new TaskerEvent
            {
                Name = EventNames.TemplateRegistered,
                Timestamp = Now,
                TaskName = template.Name,
                Namespace = template.Namespace,
                Data = new Dictionary<string, JsonElement>
                {
                    ["version"] = JsonLiterals.String(template.Version.ToString()),
                    ["step_count"] = JsonLiterals.Number(template.Steps.Count),
                },
            });
    }

    /// <summary>Creates a task, or returns the existing one (<c>Created: false</c>) for a repeated identity.</summary>
    public async ValueTask<CreateTaskResult> CreateTaskAsync(TaskRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        NulText.Refuse(request.Name, "name");
        NulText.Refuse(request.Namespace, "namespace");
        NulText.Refuse(request.Version, "version");
        // The request's traceparent is both stored on the task and the parent of this call's span.
        using var parent = TraceParent.Use(request.TraceParent);
        using var activity = TaskerTelemetry.StartOperation("create", null);
        if (request.Version is not null)
            TemplateVersion.Parse(request.Version);
        var (task, view, createdEvent, uuid, created) = await MakeTaskAsync(request, cancellationToken).ConfigureAwait(false);
        activity?.SetTag("tasker.task.uuid", uuid.ToString());
        if (created && createdEvent is not null)
            Events.Publish(createdEvent);
        if (created)
        {
            EngineLog.TaskCreated(_log, uuid, task.Header.Namespace, task.Header.Name);
            _work.Raise(); // other processes: the store announced the new task with its insert
        }
        if (!created)
            return new CreateTaskResult(await GetTaskAsync(uuid, includeTransitions: false, cancellationToken).ConfigureAwait(false), false);
        view.Header.Context = task.Header.Context; // as the store keeps it (set before it shared the instance; claims never change it)
        return new CreateTaskResult(view, true);
    }

    /// <summary>
    /// Looks the template up, makes the task and hands it to the store. A store that keeps templates it looked up may
    /// find, in the create itself, that another process changed the template since (<see cref="TemplateChangedException"/>:
    /// nothing written): the task is then made again from the template as registered now.
    /// </summary>
    private async ValueTask<(WorkflowTask Task, TaskView View, TaskerEvent? CreatedEvent, Guid Uuid, bool Created)> MakeTaskAsync(TaskRequest request, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var template = await _store.FindTemplateToCreateAsync(request.Namespace, request.Name, request.Version, cancellationToken).ConfigureAwait(false)
                ?? throw TaskerException.NotFound("template", $"{request.Namespace}/{request.Name}" + (request.Version is null ? "" : $"@{request.Version}"));
            var now = Now;
            var task = TaskFactory.Create(template, request, Options, now);
            // The event and the answer when the task is created: what was stored, with no read back. Built before the
            // store takes the instance (the PostgreSQL store keeps it as this process's committed copy, which the next
            // claim changes).
            var createdEvent = Events.IsWanted(EventNames.TaskCreated) ? TaskFactory.CreatedEvent(task) : null;
            var view = TaskViews.Build(task, now, []);
            try
            {
                var (uuid, created) = await _store.CreateTaskAsync(task, cancellationToken).ConfigureAwait(false);
                return (task, view, createdEvent, uuid, created);
            }
            catch (TemplateChangedException e)
            {
                // Changed again between our lookup and create each time: someone is re-registering it in a loop.
                if (attempt == MaxTemplateAttempts)
                    throw new TaskerException(TaskerErrorCode.Conflict, $"{e.Message}, {attempt} times; try again",
                        new Dictionary<string, string> { ["namespace"] = e.Namespace, ["name"] = e.Name });
            }
        }
    }

    private const int MaxTemplateAttempts = 3;

    public async ValueTask<TaskView> GetTaskAsync(Guid taskUuid, bool includeTransitions = false, CancellationToken cancellationToken = default)
    {
        var now = Now;
        var view = await _store.ReadTaskAsync(taskUuid, task => TaskViews.Build(task, now, []), cancellationToken).ConfigureAwait(false);
        if (!includeTransitions) return view;
        var transitions = await _store.GetTransitionsAsync(taskUuid, cancellationToken).ConfigureAwait(false);
        return view with { Transitions = transitions };
    }

    public ValueTask<IReadOnlyList<TaskSummary>> ListTasksAsync(TaskQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new TaskQuery();
        NulText.Refuse(query.Namespace, "namespace");
        NulText.Refuse(query.Name, "name");
        if (query.Limit is < 0 or > 10_000)
            throw TaskerException.InvalidArgument("limit must be between 0 and 10000", "limit");
        if (query.Offset < 0)
            throw TaskerException.InvalidArgument("offset must not be negative", "offset");
        return _store.ListTasksAsync(query, cancellationToken);
    }

    /// <summary>Atomically claims up to <see cref="ClaimOptions.MaxSteps"/> ready steps; each attempt is counted now.</summary>
    public ValueTask<ClaimResult> ClaimStepsAsync(Guid taskUuid, ClaimOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ClaimOptions();
        CheckClaim(options);
        return TimedClaim(taskUuid, options, cancellationToken);
    }

    private async ValueTask<ClaimResult> TimedClaim(Guid taskUuid, ClaimOptions options, CancellationToken cancellationToken)
    {
        // Timed only while someone listens to the histogram: otherwise two clock reads a claim for nobody.
        var started = TaskerTelemetry.ClaimLatency.Enabled ? Stopwatch.GetTimestamp() : 0;
        var result = await Mutate("claim", taskUuid, task => _lifecycle.Claim(task, options), cancellationToken).ConfigureAwait(false);
        if (result.Outcome.WaitingForHandlers is { Count: > 0 })
            await AnnounceWorkAsync(cancellationToken).ConfigureAwait(false);
        if (started != 0)
            TaskerTelemetry.ClaimLatency.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return result;
    }

    /// <summary>Extends the lease of a claimed step; returns the new expiry.</summary>
    public ValueTask<DateTimeOffset> HeartbeatAsync(Guid taskUuid, Guid stepUuid, string claimToken, TimeSpan? lease = null, CancellationToken cancellationToken = default)
    {
        CheckLease(lease);
        return Mutate("heartbeat", taskUuid, task => _lifecycle.Heartbeat(task, stepUuid, claimToken, lease), cancellationToken);
    }

    /// <summary>Records a step's result. Only the current claim token is accepted; a stale one changes nothing.</summary>
    /// <param name="handler">When and how the handler ran, as the binding measured it (recorded as a span).</param>
    public async ValueTask<TaskOutcome> CompleteStepAsync(Guid taskUuid, Guid stepUuid, string claimToken, JsonElement result, JsonElement? metadata = null,
        HandlerRun? handler = null, CancellationToken cancellationToken = default) =>
        (await CompleteAndClaimAsync(taskUuid, stepUuid, claimToken, result, metadata, handler, null, cancellationToken).ConfigureAwait(false)).Outcome;

    /// <summary>
    /// Records a step's result and, with <paramref name="claimNext"/>, claims the task's next ready steps in the same
    /// change (one store round trip for a step instead of two).
    /// </summary>
    public ValueTask<ClaimResult> CompleteAndClaimAsync(Guid taskUuid, Guid stepUuid, string claimToken, JsonElement result, JsonElement? metadata,
        HandlerRun? handler, ClaimOptions? claimNext, CancellationToken cancellationToken = default)
    {
        handler?.Validate();
        CheckClaim(claimNext);
        NulText.Refuse(result, "result");
        NulText.Refuse(metadata, "metadata");
        return Announcing(Mutate("complete", taskUuid, task => _lifecycle.Complete(task, stepUuid, claimToken, result, metadata, handler, claimNext), cancellationToken),
            static r => r.Outcome, cancellationToken);
    }

    /// <summary>Records a failed attempt: retry later with backoff, or a permanent <c>error</c>.</summary>
    /// <param name="handler">When and how the handler ran, as the binding measured it (recorded as a span).</param>
    public async ValueTask<TaskOutcome> FailStepAsync(Guid taskUuid, Guid stepUuid, string claimToken, StepFailure failure, HandlerRun? handler = null,
        CancellationToken cancellationToken = default) =>
        (await FailAndClaimAsync(taskUuid, stepUuid, claimToken, failure, handler, null, cancellationToken).ConfigureAwait(false)).Outcome;

    /// <summary>Records a failed attempt and, with <paramref name="claimNext"/>, claims the task's next ready steps.</summary>
    public ValueTask<ClaimResult> FailAndClaimAsync(Guid taskUuid, Guid stepUuid, string claimToken, StepFailure failure, HandlerRun? handler,
        ClaimOptions? claimNext, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(failure);
        handler?.Validate();
        CheckClaim(claimNext);
        CheckRetryAfter(failure);
        return Announcing(Mutate("fail", taskUuid, task => _lifecycle.Fail(task, stepUuid, claimToken, failure, handler, claimNext), cancellationToken),
            static r => r.Outcome, cancellationToken);
    }

    /// <summary>Evaluates (and, when nothing can progress, finalizes) a task.</summary>
    public ValueTask<TaskOutcome> EvaluateAsync(Guid taskUuid, CancellationToken cancellationToken = default) =>
        Mutate("evaluate", taskUuid, _evaluate, cancellationToken);

    /// <summary>Retries a failed task: failed and cancelled steps start over; completed steps keep their results.</summary>
    public ValueTask<TaskOutcome> RetryTaskAsync(Guid taskUuid, string? actor = null, string? reason = null, CancellationToken cancellationToken = default)
    {
        CheckAudit(actor, reason);
        return Announcing(Mutate("retry", taskUuid, task => _lifecycle.Retry(task, actor, reason), cancellationToken), static o => o, cancellationToken);
    }

    public ValueTask<TaskOutcome> CancelTaskAsync(Guid taskUuid, string? actor = null, string? reason = null, CancellationToken cancellationToken = default)
    {
        CheckAudit(actor, reason);
        return Mutate("cancel", taskUuid, task => _lifecycle.Cancel(task, actor, reason), cancellationToken);
    }

    /// <summary>Who and why go to the audit trail as text: no NUL (see <see cref="NulText"/>).</summary>
    private static void CheckAudit(string? actor, string? reason)
    {
        NulText.Refuse(actor, "actor");
        NulText.Refuse(reason, "reason");
    }

    /// <summary>Marks a step (by uuid or name) resolved by an operator, with the result its dependents will see.</summary>
    public ValueTask<TaskOutcome> ResolveStepAsync(Guid taskUuid, string step, JsonElement? result = null, string? actor = null, string? reason = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(step);
        CheckAudit(actor, reason);
        NulText.Refuse(result, "result");
        return Announcing(Mutate("resolve", taskUuid, task => _lifecycle.Resolve(task, step, result, actor, reason), cancellationToken), static o => o, cancellationToken);
    }

    /// <summary>
    /// Work nobody is driving (expired leases, due retries, ready steps nobody claimed, pending tasks nobody drove), so
    /// the host can re-enqueue those tasks, with the <see cref="StaleThresholds.Default"/> thresholds.
    /// </summary>
    public ValueTask<StaleWork> ListStaleWorkAsync(int limit = 100, CancellationToken cancellationToken = default) =>
        ListStaleWorkAsync(limit, null, cancellationToken);

    /// <summary>Stale work with the given thresholds (null: <see cref="StaleThresholds.Default"/>).</summary>
    public ValueTask<StaleWork> ListStaleWorkAsync(int limit, StaleThresholds? thresholds, CancellationToken cancellationToken = default)
    {
        if (limit is < 1 or > 10_000)
            throw TaskerException.InvalidArgument("limit must be between 1 and 10000", "limit");
        thresholds ??= StaleThresholds.Default;
        thresholds.Validate();
        return _store.ListStaleWorkAsync(Now, limit, thresholds, cancellationToken);
    }

    /// <summary>
    /// Store reachability, task and step counts by state, stale work, pool usage and the managed heap: what a
    /// <c>/health</c> endpoint needs. Never throws for an unreachable store; it reports it. Counts only: its cost does
    /// not include listing the queue (<see cref="IStore.CountWorkAsync"/>).
    /// </summary>
    public async ValueTask<EngineHealth> GetHealthAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var stats = await _store.GetStatsAsync(cancellationToken).ConfigureAwait(false);
            var work = await _store.CountWorkAsync(Now, cancellationToken).ConfigureAwait(false);
            return new EngineHealth(true, stats, Saturated(work.ExpiredLeases), Saturated(work.RetriesDue), null)
            {
                Memory = ManagedMemory.Capture(),
                ReadyStepsByHandler = work.ReadyStepsByHandler,
            };
        }
        catch (TaskerException e) when (e.Code is TaskerErrorCode.Database or TaskerErrorCode.Timeout)
        {
            return new EngineHealth(false, null, 0, 0, e.Message) { Memory = ManagedMemory.Capture() };
        }
    }

    private static int Saturated(long count) => (int)Math.Min(count, int.MaxValue);

    /// <summary>
    /// Runs one change of a task through the store; inside a <c>tasker.{operation}</c> span when traced. The lifecycle
    /// attaches the event bus to the task itself, so the untraced path wraps nothing (no closure per call).
    /// </summary>
    private ValueTask<T> Mutate<T>(string operation, Guid taskUuid, Func<WorkflowTask, T> change, CancellationToken cancellationToken) =>
        TaskerTelemetry.Source.HasListeners()
            ? TracedMutate(operation, taskUuid, change, cancellationToken)
            : _store.UpdateTaskAsync(taskUuid, change, _publish, cancellationToken);

    private ValueTask<T> TracedMutate<T>(string operation, Guid taskUuid, Func<WorkflowTask, T> change, CancellationToken cancellationToken) =>
        Traced(operation, taskUuid, () => _store.UpdateTaskAsync(taskUuid, change, _publish, cancellationToken));

    /// <summary>The span of one engine call. The store's own spans (Npgsql's) start inside it and nest under it.</summary>
    private static async ValueTask<T> Traced<T>(string operation, Guid? taskUuid, Func<ValueTask<T>> run)
    {
        using var activity = TaskerTelemetry.StartOperation(operation, taskUuid);
        try
        {
            return await run().ConfigureAwait(false);
        }
        catch (Exception e) when (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, e is TaskerException t ? t.Code.ToString() : e.GetType().Name);
            throw;
        }
    }

    private static void CheckRetryAfter(StepFailure failure)
    {
        if (failure.RetryAfterSeconds is < 0 || failure.RetryAfterSeconds is { } r && !double.IsFinite(r))
            throw TaskerException.InvalidArgument("retry_after_seconds must be a non-negative number", "retry_after_seconds");
    }

    private static void CheckClaim(ClaimOptions? options)
    {
        if (options is null) return;
        NulText.Refuse(options.WorkerId, "worker_id");
        if (options.MaxSteps is < 0 or > MaxClaimSteps)
            throw TaskerException.InvalidArgument($"max_steps must be between 0 and {MaxClaimSteps}", "max_steps");
        CheckLease(options.Lease);
    }

    private const int MaxClaimSteps = 10_000;

    private static void CheckLease(TimeSpan? lease)
    {
        if (lease is { } l && (l <= TimeSpan.Zero || l > TimeSpan.FromDays(7)))
            throw TaskerException.InvalidArgument("lease must be between 1 ms and 7 days", "lease_seconds");
    }

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}
