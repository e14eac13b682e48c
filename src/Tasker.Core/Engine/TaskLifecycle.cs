using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tasker.Core.Events;
using Tasker.Core.Logging;
using Tasker.Core.Telemetry;

namespace Tasker.Core;

/// <summary>
/// The step and task rules of DESIGN.md section 3, applied to one <see cref="WorkflowTask"/> held under its
/// store's exclusive lock. Every operation checks all its guards before it changes anything, so a rejected call
/// (stale claim, illegal transition) leaves the task exactly as it was.
/// Each public operation first attaches <paramref name="bus"/> to the task, so that the events of the change are built
/// only for what someone subscribed to (the store clears it with the change-tracking).
/// </summary>
internal sealed class TaskLifecycle(TaskerOptions options, ILogger log, EventBus bus)
{
    private readonly Backoff _backoff = new(options);

    private DateTimeOffset Now => options.Time.GetUtcNow();

    public ClaimResult Claim(WorkflowTask task, ClaimOptions claim) => Claim(Attach(task), claim, Now);

    private WorkflowTask Attach(WorkflowTask task)
    {
        task.Bus = bus;
        return task;
    }

    private ClaimResult Claim(WorkflowTask task, ClaimOptions claim, DateTimeOffset now)
    {
        if (task.State.IsFinished())
            return new ClaimResult([], Evaluate(task, now, claim));

        ExpireLeases(task, now);
        if (PastTimeout(task, now))
            return new ClaimResult([], Evaluate(task, now, claim)); // the evaluation times the task out (and says so)
        // The picked indices live on the stack (or in a pooled array for a very wide claim): a claim allocates only
        // what it hands back.
        var max = Math.Min(Math.Max(claim.MaxSteps, 0), task.Candidates.Length);
        int[]? rented = null;
        Span<int> picked = max <= 64 ? stackalloc int[max] : (rented = System.Buffers.ArrayPool<int>.Shared.Rent(max)).AsSpan(0, max);
        try
        {
            picked = picked[..PickReady(task, picked, claim, now)];
            return picked.IsEmpty ? new ClaimResult([], Evaluate(task, now, claim)) : Claim(task, picked, claim, now);
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<int>.Shared.Return(rented);
        }
    }

    private ClaimResult Claim(WorkflowTask task, ReadOnlySpan<int> picked, ClaimOptions claim, DateTimeOffset now)
    {
        if (task.State != TaskState.InProgress)
            task.TransitionTask(TaskState.InProgress, "steps claimed", claim.WorkerId, now);

        var lease = now + (claim.Lease ?? options.LeaseDuration);
        // Claiming keeps a step unfinished (pending or waiting → in progress): the count is the same before and after.
        var stepsLeft = task.CountIn(StepState.Pending) + task.CountIn(StepState.WaitingForRetry) + task.CountIn(StepState.InProgress) - 1;
        var claims = new StepClaim[picked.Length];
        for (var n = 0; n < picked.Length; n++)
        {
            var i = picked[n];
            var step = task.Steps[i];
            step.Attempts++;
            step.ClaimToken = Ids.NewToken();
            step.ClaimedBy = claim.WorkerId;
            step.StartedAt = now;
            step.LeaseExpiresAt = Deadline(step) is { } deadline && deadline < lease ? deadline : lease;
            step.NextRetryAt = null;
            task.TransitionStep(i, StepState.InProgress, step.Attempts == 1 ? "claimed" : "claimed for retry", claim.WorkerId, now);
            // TransitionStep clears the lease only when leaving in_progress, so the new claim stays set.
            claims[n] = ToClaim(task, step, stepsLeft);
        }
        TaskerTelemetry.Count(task, TaskerTelemetry.StepsStarted, claims.Length, TaskerTelemetry.Tag("tasker.namespace", task.Header.Namespace));
        if (log.IsEnabled(LogLevel.Debug))
        {
            var (count, uuid, worker) = (claims.Length, task.Uuid, claim.WorkerId ?? "an anonymous worker");
            task.Log(l => EngineLog.StepsClaimed(l, count, uuid, worker));
        }
        return new ClaimResult(claims, Evaluate(task, now, claim));
    }

    /// <summary>Fills <paramref name="picked"/> (its length is the most to pick) with ready steps; returns how many.</summary>
    private static int PickReady(WorkflowTask task, Span<int> picked, ClaimOptions claim, DateTimeOffset now)
    {
        var count = 0;
        foreach (var i in task.Candidates)
        {
            if (count >= picked.Length) break;
            var step = task.Steps[i];
            if (IsReadyNow(step, now) && claim.CanRun(step.Handler))
                picked[count++] = i;
        }
        picked[..count].Sort(); // declaration order: deterministic for hosts and tests
        return count;
    }

    private static bool IsReadyNow(WorkflowStep step, DateTimeOffset now) =>
        step.State == StepState.Pending || step.NextRetryAt is null || step.NextRetryAt <= now;

    /// <summary>When the current attempt of a step times out: its <c>timeout_seconds</c> after it was claimed.</summary>
    private static DateTimeOffset? Deadline(WorkflowStep step) =>
        step.TimeoutSeconds is { } seconds && step.StartedAt is { } started ? started.AddSeconds(seconds) : null;

    private static StepClaim ToClaim(WorkflowTask task, WorkflowStep step, int stepsLeft)
    {
        var parents = task.Graph.ParentsOf(step.Index);
        var results = parents.Length == 0 ? [] : new KeyValuePair<string, JsonElement>[parents.Length];
        for (var p = 0; p < parents.Length; p++)
        {
            var parent = task.Steps[parents[p]];
            results[p] = new(parent.Name, parent.Result ?? JsonValues.Null);
        }
        var h = task.Header;
        return new StepClaim(h.Uuid, h.Namespace, h.Name, h.Version, h.Context, h.Tags, step.Uuid, step.Name, step.Handler,
            step.Attempts, step.MaxAttempts, step.Initialization, results, step.ClaimToken!, step.LeaseExpiresAt!.Value, Deadline(step), stepsLeft);
    }

    public DateTimeOffset Heartbeat(WorkflowTask task, Guid stepUuid, string token, TimeSpan? lease)
    {
        Attach(task);
        var now = Now;
        var step = ClaimedStep(task, stepUuid, token, now);
        var extended = now + (lease ?? options.LeaseDuration);
        step.LeaseExpiresAt = Deadline(step) is { } deadline && deadline < extended ? deadline : extended;
        task.MarkDirty(step.Index);
        return step.LeaseExpiresAt.Value;
    }

    /// <summary>Completes a step; with <paramref name="next"/>, claims the task's next ready steps in the same change.</summary>
    public ClaimResult Complete(WorkflowTask task, Guid stepUuid, string token, JsonElement result, JsonElement? metadata, HandlerRun? handler, ClaimOptions? next)
    {
        Attach(task);
        var now = Now;
        RecordCompletion(task, ClaimedStep(task, stepUuid, token, now), result, metadata, handler, now);
        return After(task, next, now);
    }

    private static void RecordCompletion(WorkflowTask task, WorkflowStep step, JsonElement result, JsonElement? metadata, HandlerRun? handler, DateTimeOffset now)
    {
        step.Result = result;
        step.Metadata = metadata;
        step.FinishedAt = now;
        var duration = (now - (step.StartedAt ?? now)).TotalMilliseconds;
        task.TransitionStep(step.Index, StepState.Complete, "completed", step.ClaimedBy, now);
        SetDuration(task, step, duration);
        TaskerTelemetry.Count(task, TaskerTelemetry.StepsCompleted, 1, TaskerTelemetry.Tag("tasker.namespace", task.Header.Namespace));
        TaskerTelemetry.Record(task, TaskerTelemetry.StepDuration, duration, TaskerTelemetry.Tag("tasker.step.outcome", "complete"));
        TaskerTelemetry.RecordStepSpan(task, step, now, "complete", handler);
    }

    /// <summary>
    /// Several reports in one change, each applied as <see cref="Complete"/> or <see cref="Fail"/> would apply it
    /// (a refused one changes nothing), then the next claims or the evaluation. <paramref name="refusedBefore"/> holds
    /// what the engine refused before the change; the answer is a copy with what this change refused added, so a
    /// change the store runs again (a lost compare-and-set) starts from the same place.
    /// </summary>
    public ReportsResult Report(WorkflowTask task, IReadOnlyList<StepReport> reports, TaskerException?[] refusedBefore, ClaimOptions? next)
    {
        Attach(task);
        var now = Now;
        var refused = (TaskerException?[])refusedBefore.Clone();
        for (var i = 0; i < reports.Count; i++)
        {
            if (refused[i] is not null) continue;
            var r = reports[i];
            WorkflowStep step;
            try
            {
                step = ClaimedStep(task, r.StepUuid, r.ClaimToken, now);
            }
            catch (TaskerException e)
            {
                refused[i] = e;
                continue;
            }
            if (r.Failure is { } failure)
                RecordFailure(task, step, failure, r.Handler, now);
            else
                RecordCompletion(task, step, r.Result ?? JsonValues.Null, r.Metadata, r.Handler, now);
        }
        return new ReportsResult(refused, After(task, next, now));
    }

    /// <summary>What a report returns: the next claims when asked for (the claim evaluates), else the evaluation.</summary>
    private ClaimResult After(WorkflowTask task, ClaimOptions? next, DateTimeOffset now) =>
        next is null ? new ClaimResult([], Evaluate(task, now, null)) : Claim(task, next, now);

    /// <summary>Records a failed attempt; with <paramref name="next"/>, claims the task's next ready steps in the same change.</summary>
    public ClaimResult Fail(WorkflowTask task, Guid stepUuid, string token, StepFailure failure, HandlerRun? handler, ClaimOptions? next)
    {
        Attach(task);
        var now = Now;
        var step = ClaimedStep(task, stepUuid, token, now);
        RecordFailure(task, step, failure, handler, now);
        return After(task, next, now);
    }

    /// <summary>
    /// A failed attempt: retry after backoff while retryable with attempts left, else <c>error</c>. The message and
    /// backtrace are cut here, once, for every host (<see cref="FailureText"/>).
    /// </summary>
    private void RecordFailure(WorkflowTask task, WorkflowStep step, StepFailure failure, HandlerRun? handler, DateTimeOffset now)
    {
        var permanent = failure.Permanent || !step.Retryable;
        step.LastError = new StepError(FailureText.Message(failure.Message), FailureText.ErrorType(failure.ErrorType), permanent, step.Attempts, now, FailureText.Backtrace(failure.Backtrace));
        var duration = (now - (step.StartedAt ?? now)).TotalMilliseconds;

        if (!permanent && step.Attempts < step.MaxAttempts)
        {
            step.NextRetryAt = now + _backoff.Delay(step, step.Attempts, failure.RetryAfterSeconds);
            task.TransitionStep(step.Index, StepState.WaitingForRetry, $"attempt {step.Attempts} failed: {step.LastError.ErrorType ?? "error"}", step.ClaimedBy, now);
            SetDuration(task, step, duration, step.LastError);
            if (log.IsEnabled(LogLevel.Information))
            {
                var (name, uuid, attempt, type, delay) = (step.Name, task.Uuid, step.Attempts, step.LastError.ErrorType ?? "error", (step.NextRetryAt.Value - now).TotalSeconds);
                task.Log(l => EngineLog.StepRetryScheduled(l, name, uuid, attempt, type, delay));
            }
            TaskerTelemetry.Count(task, TaskerTelemetry.StepsRetried, 1, TaskerTelemetry.Tag("tasker.namespace", task.Header.Namespace));
            TaskerTelemetry.RecordStepSpan(task, step, now, "retry", handler);
        }
        else
        {
            step.FinishedAt = now;
            var reason = permanent ? "permanent failure" : $"retries exhausted after {step.Attempts} attempts";
            task.TransitionStep(step.Index, StepState.Error, reason, step.ClaimedBy, now);
            SetDuration(task, step, duration, step.LastError);
            if (log.IsEnabled(LogLevel.Warning))
            {
                var (name, uuid, attempt, type) = (step.Name, task.Uuid, step.Attempts, step.LastError.ErrorType ?? "error");
                task.Log(l => EngineLog.StepFailed(l, name, uuid, attempt, type, reason));
            }
            TaskerTelemetry.Count(task, TaskerTelemetry.StepsFailed, 1, TaskerTelemetry.Tag("tasker.namespace", task.Header.Namespace));
            TaskerTelemetry.RecordStepSpan(task, step, now, "error", handler);
            if (task.Header.FailFast)
                CancelUnstarted(task, $"fail_fast: step '{step.Name}' failed", null, now);
        }
        TaskerTelemetry.Record(task, TaskerTelemetry.StepDuration, duration, TaskerTelemetry.Tag("tasker.step.outcome", "error"));
    }

    /// <summary>Adds the attempt's duration and error to the event of the step's transition that just happened.</summary>
    private static void SetDuration(WorkflowTask task, WorkflowStep step, double durationMs, StepError? error = null)
    {
        if (task.LastStepEvent is not { } e || e.StepUuid != step.Uuid) return; // nobody subscribed to it
        e.DurationMs = durationMs;
        e.Error = error;
    }

    public TaskOutcome Evaluate(WorkflowTask task) => Evaluate(Attach(task), Now, null);

    public TaskOutcome Retry(WorkflowTask task, string? actor, string? reason)
    {
        Attach(task);
        var now = Now;
        if (!Transitions.Check(task.State, TaskState.Pending))
            return Evaluate(task, now, null); // already pending: nothing to do
        RefuseTimedOut(task, now, "retried");
        reason ??= "task retried";
        foreach (var step in task.Steps)
        {
            if (step.State is not (StepState.Error or StepState.Cancelled)) continue;
            step.Attempts = 0;
            step.LastError = null;
            step.NextRetryAt = null;
            step.FinishedAt = null;
            task.TransitionStep(step.Index, StepState.Pending, reason, actor, now);
        }
        task.TransitionTask(TaskState.Pending, reason, actor, now);
        return Evaluate(task, now, null);
    }

    public TaskOutcome Cancel(WorkflowTask task, string? actor, string? reason)
    {
        Attach(task);
        var now = Now;
        if (!Transitions.Check(task.State, TaskState.Cancelled))
            return Evaluate(task, now, null); // already cancelled
        reason ??= "task cancelled";
        CancelUnstarted(task, reason, actor, now);
        foreach (var i in task.InFlight.ToArray())
            task.TransitionStep(i, StepState.Cancelled, reason, actor, now);
        task.TransitionTask(TaskState.Cancelled, reason, actor, now);
        return Evaluate(task, now, null);
    }

    private static void CancelUnstarted(WorkflowTask task, string reason, string? actor, DateTimeOffset now)
    {
        foreach (var step in task.Steps)
            if (step.State is StepState.Pending or StepState.WaitingForRetry)
                task.TransitionStep(step.Index, StepState.Cancelled, reason, actor, now);
    }

    public TaskOutcome Resolve(WorkflowTask task, string stepRef, JsonElement? result, string? actor, string? reason)
    {
        Attach(task);
        var now = Now;
        var i = Guid.TryParse(stepRef, out var uuid) ? task.IndexOf(uuid) : task.IndexOf(stepRef);
        if (i < 0) throw TaskerException.NotFound("step", stepRef);
        var step = task.Steps[i];
        if (task.State is TaskState.Complete or TaskState.Cancelled or TaskState.ResolvedManually)
            throw new TaskerException(TaskerErrorCode.InvalidState,
                $"cannot resolve step '{step.Name}': the task is {task.State.ToWire()}",
                new Dictionary<string, string> { ["task_state"] = task.State.ToWire(), ["step_name"] = step.Name });
        if (!Transitions.Check(step.State, StepState.ResolvedManually, step.Name))
            return Evaluate(task, now, null); // already resolved

        RefuseTimedOut(task, now, "resumed");
        reason ??= "resolved manually";
        step.Result = result ?? JsonValues.Null;
        step.FinishedAt = now;
        task.TransitionStep(i, StepState.ResolvedManually, reason, actor, now);
        if (task.State == TaskState.Error)
            task.TransitionTask(TaskState.Pending, reason, actor, now);
        return Evaluate(task, now, null);
    }

    /// <summary>
    /// Decides what happens next and finalizes the task when nothing can progress. Cost is proportional to the
    /// candidate and in-flight steps, not to the size of the DAG.
    /// </summary>
    private TaskOutcome Evaluate(WorkflowTask task, DateTimeOffset now, ClaimOptions? caller)
    {
        var timedOut = false;
        if (!task.State.IsFinished())
        {
            ExpireLeases(task, now);
            timedOut = TimeOutTask(task, now);
        }

        var ready = 0;
        List<int>? othersOnly = null; // ready steps of handlers the caller lacks
        DateTimeOffset? earliestRetry = null;
        foreach (var i in task.Candidates)
        {
            var step = task.Steps[i];
            if (!IsReadyNow(step, now))
            {
                if (earliestRetry is null || step.NextRetryAt < earliestRetry) earliestRetry = step.NextRetryAt;
            }
            else if (caller is null || caller.CanRun(step.Handler)) ready++;
            else (othersOnly ??= []).Add(i);
        }
        List<HandlerWait>? waiting = null;
        if (othersOnly is not null)
        {
            othersOnly.Sort(); // step order, as a task lists them (the candidate set has its own order)
            foreach (var i in othersOnly) HandlerWait.Add(ref waiting, task.Steps[i].Handler, task.Steps[i].Name);
        }
        var inFlight = task.InFlight.Length;
        if (waiting is not null && ready == 0 && inFlight == 0)
        {
            // Runnable now, only not here: hand the task on (sooner than any retry would bring it back).
            var handOff = now + options.MissingHandlerRequeue;
            if (earliestRetry is null || handOff < earliestRetry) earliestRetry = handOff;
        }

        TaskOutcome outcome;
        if (task.State is TaskState.Complete or TaskState.ResolvedManually)
            outcome = Outcome(task, ExecutionStatus.AllComplete, RecommendedAction.Complete, null, 0, 0, false);
        else if (task.State == TaskState.Cancelled)
            outcome = Outcome(task, ExecutionStatus.BlockedByFailures, RecommendedAction.Cancelled, null, 0, 0, false);
        else if (task.State == TaskState.Error)
            outcome = Outcome(task, ExecutionStatus.BlockedByFailures, RecommendedAction.Error, null, 0, 0, timedOut);
        else if (ready > 0)
        {
            outcome = Outcome(task, ExecutionStatus.HasReadySteps, RecommendedAction.Execute, null, ready, inFlight, false, waiting);
            if (task.Emit(EventNames.ViableStepsDiscovered, now, null, null) is { } e)
                e.Data = Data("ready_steps", ready);
            TaskerTelemetry.Record(task, TaskerTelemetry.ReadySteps, ready);
        }
        else if (inFlight > 0)
            outcome = Outcome(task, ExecutionStatus.Processing, RecommendedAction.Wait, null, 0, inFlight, false, waiting);
        else if (earliestRetry is { } retryAt)
        {
            if (waiting is null)
                task.TransitionTask(TaskState.WaitingForRetry, "waiting for step retry", null, now);
            var delay = Math.Max((retryAt - now).TotalSeconds, 0);
            var status = waiting is null ? ExecutionStatus.WaitingForRetry : ExecutionStatus.HasReadySteps;
            outcome = Outcome(task, status, RecommendedAction.Reenqueue, delay, 0, 0, false, waiting);
            if (task.Emit(EventNames.TaskReenqueued, now, null, null) is { } e)
                e.Data = Data("delay_seconds", delay);
        }
        else if (task.CountIn(StepState.Complete) + task.CountIn(StepState.ResolvedManually) == task.Steps.Count)
        {
            var final = task.CountIn(StepState.ResolvedManually) > 0 ? TaskState.ResolvedManually : TaskState.Complete;
            var finalized = task.TransitionTask(final, "all steps complete", null, now);
            outcome = Outcome(task, ExecutionStatus.AllComplete, RecommendedAction.Complete, null, 0, 0, finalized);
        }
        else
        {
            var finalized = task.TransitionTask(TaskState.Error, "blocked by failed steps", null, now);
            outcome = Outcome(task, ExecutionStatus.BlockedByFailures, RecommendedAction.Error, null, 0, 0, finalized);
        }

        if (outcome.Finalized)
        {
            TaskerTelemetry.Count(task, TaskerTelemetry.TasksFinished, 1, TaskerTelemetry.Tag("tasker.namespace", task.Header.Namespace),
                TaskerTelemetry.Tag("tasker.task.state", outcome.TaskState.ToWire()));
            TaskerTelemetry.RecordTaskSpan(task, now);
            if (log.IsEnabled(LogLevel.Information))
            {
                var (uuid, ns, name, state) = (task.Uuid, task.Header.Namespace, task.Header.Name, task.State.ToWire());
                task.Log(l => EngineLog.TaskFinished(l, uuid, ns, name, state));
            }
        }
        // No lambdas here: a closure over the outcome would be allocated on every evaluation, wanted or not.
        if (task.Emit(EventNames.TaskEvaluated, now, null, null) is { } evaluated)
            evaluated.Data = new Dictionary<string, JsonElement>
            {
                ["action"] = JsonLiterals.String(outcome.Action.ToWire()),
                ["execution_status"] = JsonLiterals.String(outcome.Status.ToWire()),
                ["ready_steps"] = JsonLiterals.Number(outcome.ReadySteps),
                ["in_progress_steps"] = JsonLiterals.Number(outcome.InProgressSteps),
            };
        return outcome;
    }

    private static TaskOutcome Outcome(WorkflowTask task, ExecutionStatus status, RecommendedAction action, double? delay, int ready, int inFlight,
        bool finalized, IReadOnlyList<HandlerWait>? waiting = null) =>
        new(task.Uuid, task.State, status, action, delay, ready, inFlight, finalized, waiting ?? []);

    /// <summary>
    /// A task past its <c>timeout_seconds</c> goes to <c>error</c>: unfinished steps are cancelled (claims in flight
    /// become stale). Returns true when it did that now.
    /// </summary>
    /// <summary>
    /// A task's timeout counts from its creation, so a task past it would time out again the moment it resumed:
    /// refuse clearly instead (create a new task for the same work).
    /// </summary>
    private static void RefuseTimedOut(WorkflowTask task, DateTimeOffset now, string verb)
    {
        if (!PastTimeout(task, now)) return;
        throw new TaskerException(TaskerErrorCode.InvalidState,
            $"the task cannot be {verb}: it is past its timeout of {task.Header.TimeoutSeconds} s (counted from its creation); create a new task",
            new Dictionary<string, string> { ["task_state"] = task.State.ToWire(), ["reason"] = "task_timeout" });
    }

    private static bool PastTimeout(WorkflowTask task, DateTimeOffset now) =>
        task.Header.TimeoutSeconds is { } seconds && now >= task.Header.CreatedAt.AddSeconds(seconds);

    private static bool TimeOutTask(WorkflowTask task, DateTimeOffset now)
    {
        if (task.State.IsFinished() || !PastTimeout(task, now)) return false;
        var reason = $"task timed out after {task.Header.TimeoutSeconds} s";
        CancelUnstarted(task, reason, null, now);
        foreach (var i in task.InFlight.ToArray())
            task.TransitionStep(i, StepState.Cancelled, reason, null, now);
        return task.TransitionTask(TaskState.Error, reason, null, now);
    }

    private static Dictionary<string, JsonElement> Data(string key, double value) => new() { [key] = JsonLiterals.Number(value) };

    /// <summary>
    /// Steps whose lease ran out (their worker is presumed dead): the attempt counts; with attempts left the step is
    /// claimable again at once, otherwise it fails permanently.
    /// </summary>
    private void ExpireLeases(WorkflowTask task, DateTimeOffset now)
    {
        if (!AnyLeaseExpired(task, now)) return; // the usual case, checked without copying the in-flight set
        foreach (var i in task.InFlight.ToArray())
        {
            var step = task.Steps[i];
            if (step.LeaseExpiresAt is not { } expires || expires > now) continue;
            if (Deadline(step) is { } deadline && deadline <= now)
            {
                // The attempt ran past its timeout_seconds, whether or not the host noticed: a retryable Timeout.
                RecordFailure(task, step, new StepFailure($"the step ran past its timeout of {step.TimeoutSeconds} s", "Timeout"), null, now);
                continue;
            }
            task.Emit(EventNames.StepLeaseExpired, now, step, null);
            if (log.IsEnabled(LogLevel.Warning))
            {
                var (name, uuid, attempt) = (step.Name, task.Uuid, step.Attempts);
                task.Log(l => EngineLog.LeaseExpired(l, name, uuid, attempt, expires));
            }
            TaskerTelemetry.Count(task, TaskerTelemetry.LeasesExpired, 1, TaskerTelemetry.Tag("tasker.namespace", task.Header.Namespace));
            step.LastError = new StepError($"lease expired at {expires:O}", "LeaseExpired", false, step.Attempts, now, null);
            if (step.Attempts < step.MaxAttempts)
            {
                step.NextRetryAt = now;
                task.TransitionStep(i, StepState.WaitingForRetry, "lease expired", null, now);
                SetDuration(task, step, (now - (step.StartedAt ?? now)).TotalMilliseconds, step.LastError);
            }
            else
            {
                step.FinishedAt = now;
                task.TransitionStep(i, StepState.Error, "lease expired", null, now);
                SetDuration(task, step, (now - (step.StartedAt ?? now)).TotalMilliseconds, step.LastError);
                if (task.Header.FailFast)
                    CancelUnstarted(task, $"fail_fast: step '{step.Name}' failed", null, now);
            }
        }
    }

    private static bool AnyLeaseExpired(WorkflowTask task, DateTimeOffset now)
    {
        foreach (var i in task.InFlight)
            if (task.Steps[i].LeaseExpiresAt is { } expires && expires <= now)
                return true;
        return false;
    }

    private static WorkflowStep ClaimedStep(WorkflowTask task, Guid stepUuid, string token, DateTimeOffset now)
    {
        var i = task.IndexOf(stepUuid);
        if (i < 0) throw TaskerException.NotFound("step", stepUuid.ToString());
        var step = task.Steps[i];
        if (step.State != StepState.InProgress)
            throw TaskerException.StaleClaim(step.Name, $"the step is {step.State.ToWire()}, not in_progress");
        if (!string.Equals(step.ClaimToken, token, StringComparison.Ordinal))
            throw TaskerException.StaleClaim(step.Name, "the claim token is not the current one (the lease expired and the step was claimed again)");
        if (PastTimeout(task, now))
            throw TaskerException.StaleClaim(step.Name, $"the task timed out (timeout_seconds {task.Header.TimeoutSeconds})");
        if (Deadline(step) is { } deadline && deadline <= now)
            throw TaskerException.StaleClaim(step.Name, $"the attempt's deadline passed at {deadline:O} (timeout_seconds {step.TimeoutSeconds}); it counts as a Timeout failure");
        return step;
    }
}
