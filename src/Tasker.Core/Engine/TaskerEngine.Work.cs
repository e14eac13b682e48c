using System.Diagnostics;
using Tasker.Core.Logging;
using Tasker.Core.Telemetry;

namespace Tasker.Core;

/// <summary>Worker mode: claims across tasks, waiting for work, and telling waiting workers about new work.</summary>
public sealed partial class TaskerEngine
{
    /// <summary>
    /// Worker mode: claims up to <see cref="WorkClaimOptions.MaxSteps"/> ready steps of the caller's handlers across
    /// all tasks, highest task priority first, then oldest first (a step due for retry, or whose lease expired, ranks at
    /// that time), waiting up to <see cref="WorkClaimOptions.Wait"/>
    /// for work to appear. Every rule of a per-task claim holds (attempts, leases, deadlines, fencing).
    /// </summary>
    public async ValueTask<IReadOnlyList<StepClaim>> ClaimWorkAsync(WorkClaimOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Handlers is null || options.Handlers.Count == 0)
            throw TaskerException.InvalidArgument("handlers must name at least one handler the worker runs", "handlers");
        CheckClaim(new ClaimOptions(options.MaxSteps, options.Lease, options.WorkerId));
        if (options.Wait is { } w && (w < TimeSpan.Zero || w > MaxWorkWait))
            throw TaskerException.InvalidArgument($"wait_seconds must be between 0 and {MaxWorkWait.TotalSeconds}", "wait_seconds");
        foreach (var handler in options.Handlers) NulText.Refuse(handler, "handlers");
        foreach (var ns in options.Namespaces ?? (IEnumerable<string>)[]) NulText.Refuse(ns, "namespaces");
        if (options.MaxSteps == 0) return [];

        try
        {
            // Waiting is real time (a worker idling), not the engine's clock, which tests drive by hand.
            var started = Stopwatch.GetTimestamp();
            var wait = options.Wait ?? TimeSpan.Zero;
            _store.ListenForWork(_work.RaiseHere);
            while (true)
            {
                var woken = _work.Next; // taken before looking, so work made ready meanwhile wakes us
                var claimed = await ClaimReadyAsync(options, cancellationToken).ConfigureAwait(false);
                // Passed over tasks another caller held and got nothing else: steps of ours may still be ready there once
                // it lets go, and its claim announces nothing. Look once more now rather than come back empty.
                if (claimed.Claims.Count == 0 && claimed.OthersHeldSome)
                    claimed = await ClaimReadyAsync(options, cancellationToken).ConfigureAwait(false);
                var remaining = wait - Stopwatch.GetElapsedTime(started);
                if (claimed.Claims.Count > 0 || remaining <= TimeSpan.Zero)
                    return claimed.Claims;
                // Another process's NOTIFY or this process's own change wakes us; the poll covers a lost notification. Work left
                // to another worker for the work affinity is ours once it has passed: nobody announces that, so look then.
                var poll = remaining < Options.WorkPollInterval ? remaining : Options.WorkPollInterval;
                if (claimed.HeldBackUntil is { } until)
                    poll = TimeSpan.FromTicks(Math.Clamp((until - Now).Ticks, TimeSpan.TicksPerMillisecond, poll.Ticks));
                await Task.WhenAny(woken, Task.Delay(poll, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            // Woken on the listener's thread (WorkSignal.RaiseHere) and done without sending anything (an error, a
            // cancellation): the caller's code goes on on the thread pool, not in the listener.
            if (WorkSignal.RaisingHere)
                await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        }
    }

    private static readonly TimeSpan MaxWorkWait = TimeSpan.FromSeconds(60);

    /// <summary>One pass: the claims of all the ready tasks the store finds are one change of them.</summary>
    private async ValueTask<WorkClaimed> ClaimReadyAsync(WorkClaimOptions options, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var query = new WorkQuery(options.Handlers, options.Namespaces, options.MaxSteps, Options.WorkAffinity, options.WorkerId);
        var now = Now;
        TaskClaims[] made = [];
        IReadOnlyList<WorkflowTask> changed = [];
        void Change(IReadOnlyList<WorkflowTask> tasks) => (changed, made) = (tasks, ClaimAcross(tasks, options));
        var found = TaskerTelemetry.Source.HasListeners()
            ? await Traced("claim_work", null, () => _store.ClaimReadyTasksAsync(query, now, Change, _publish, cancellationToken)).ConfigureAwait(false)
            : await _store.ClaimReadyTasksAsync(query, now, Change, _publish, cancellationToken).ConfigureAwait(false);
        var claims = new List<StepClaim>();
        var leftForOthers = false;
        for (var i = 0; i < made.Length; i++)
        {
            var task = made[i];
            if (task.Claims.Count > 0 && found.NotPersisted.Contains(task.Claims[0].TaskUuid)) continue;
            if (found.HeadersCompleted)
                foreach (var claim in task.Claims) claims.Add(claim with { Context = changed[i].Header.Context, Tags = changed[i].Header.Tags });
            else
                claims.AddRange(task.Claims);
            leftForOthers |= task.LeftForOthers;
        }
        // Tasks a worker is running a step of, one claim each: a claim of its own takes turns with those workers' reports
        // (in this process) and starts from what they committed, rather than holding the task while they report.
        foreach (var busy in found.BusyTasks)
        {
            var room = options.MaxSteps - claims.Count;
            if (room <= 0) break;
            try
            {
                var result = await Mutate("claim", busy, task => _lifecycle.Claim(task, new ClaimOptions(room, options.Lease, options.WorkerId, options.Handlers)),
                    cancellationToken).ConfigureAwait(false);
                claims.AddRange(result.Claims);
                leftForOthers |= result.Outcome.WaitingForHandlers is { Count: > 0 };
            }
            catch (TaskerException e) when (e.Code == TaskerErrorCode.NotFound)
            {
                // pruned since it was found: nothing to claim there
            }
            catch (TaskerException) when (claims.Count > 0)
            {
                break; // the claims made are committed: return them; a lasting failure shows on the next call
            }
        }
        if (leftForOthers)
            await AnnounceWorkAsync(cancellationToken).ConfigureAwait(false);
        if (claims.Count > 0)
            TaskerTelemetry.ClaimLatency.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new WorkClaimed(claims, found.PassedSome, found.HeldBackUntil);
    }

    /// <summary>
    /// The claims of one work claim on the tasks the store found for it, one entry per task. First one step from each
    /// of the leading tasks of the top priority, then, while room is left, more steps task by task in order: within one
    /// priority the oldest tasks thus get a step each before any gets a second, and a lower priority never goes before
    /// a higher one.
    /// </summary>
    private TaskClaims[] ClaimAcross(IReadOnlyList<WorkflowTask> tasks, WorkClaimOptions options)
    {
        var made = new TaskClaims[tasks.Count];
        var room = options.MaxSteps;
        var leading = 0;
        while (leading < tasks.Count && leading < options.MaxSteps && tasks[leading].Header.Priority == tasks[0].Header.Priority) leading++;
        var moreReady = new bool[tasks.Count];
        for (var i = 0; i < tasks.Count; i++)
            made[i] = TaskClaims.None;
        for (var i = 0; i < leading; i++)
            moreReady[i] = ClaimOn(i, 1);
        for (var i = 0; i < tasks.Count && room > 0; i++)
        {
            // A leading task again only if its first claim left steps ready for us.
            if (i >= leading || moreReady[i])
                ClaimOn(i, room);
        }
        return made;

        // Claims up to max steps of task i; true when steps this worker could run are still ready there.
        bool ClaimOn(int i, int max)
        {
            var result = _lifecycle.Claim(tasks[i], new ClaimOptions(max, options.Lease, options.WorkerId, options.Handlers));
            room -= result.Claims.Count;
            made[i] = made[i].With(result);
            var othersOnly = result.Outcome.WaitingForHandlers?.Sum(w => w.Steps.Count) ?? 0;
            return result.Outcome.ReadySteps > othersOnly;
        }
    }

    /// <summary>A work claim's pass: its claims, and whether it passed over tasks others held.</summary>
    private sealed record WorkClaimed(IReadOnlyList<StepClaim> Claims, bool OthersHeldSome, DateTimeOffset? HeldBackUntil);

    /// <summary>What a work claim made of one task: its claims, and whether it left steps of other handlers ready.</summary>
    private sealed record TaskClaims(IReadOnlyList<StepClaim> Claims, bool LeftForOthers)
    {
        public static readonly TaskClaims None = new([], false);

        public TaskClaims With(ClaimResult result) => result.Claims.Count == 0 && result.Outcome.WaitingForHandlers is not { Count: > 0 } ? this
            : new([.. Claims, .. result.Claims], LeftForOthers || result.Outcome.WaitingForHandlers is { Count: > 0 });
    }

    /// <summary>
    /// Wakes this process's waiting workers and tells other processes' (a no-op on the memory store). Best effort: it
    /// runs after the change committed, and a lost announcement only delays a worker until its next poll, so a
    /// failure here must never turn a committed change into an error for its caller.
    /// </summary>
    private async ValueTask AnnounceWorkAsync(CancellationToken cancellationToken)
    {
        _work.Raise();
        try
        {
            await _store.AnnounceWorkAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (TaskerException e) when (e.Code is TaskerErrorCode.Database or TaskerErrorCode.Timeout)
        {
            EngineLog.AnnounceFailed(_log, e.Code.ToString());
        }
        catch (OperationCanceledException)
        {
            // the caller gave up after its change committed: nothing to tell it
        }
    }

    /// <summary>After a change: ready steps the caller did not take are work for someone else.</summary>
    private async ValueTask<T> Announcing<T>(ValueTask<T> change, Func<T, TaskOutcome> outcome, CancellationToken cancellationToken)
    {
        var result = await change.ConfigureAwait(false);
        var o = outcome(result);
        if (o.ReadySteps > 0 || o.WaitingForHandlers is { Count: > 0 })
            await AnnounceWorkAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }
}
