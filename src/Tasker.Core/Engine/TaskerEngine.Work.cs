using System.Diagnostics;
using Tasker.Core.Logging;

namespace Tasker.Core;

/// <summary>Worker mode: claims across tasks, waiting for work, and telling waiting workers about new work.</summary>
public sealed partial class TaskerEngine
{
    /// <summary>
    /// Worker mode: claims up to <see cref="WorkClaimOptions.MaxSteps"/> ready steps of the caller's handlers across
    /// all tasks, highest task priority first, then oldest first, waiting up to <see cref="WorkClaimOptions.Wait"/>
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

        // Waiting is real time (a worker idling), not the engine's clock, which tests drive by hand.
        var started = Stopwatch.GetTimestamp();
        var wait = options.Wait ?? TimeSpan.Zero;
        _store.ListenForWork(_work.Raise);
        while (true)
        {
            var woken = _work.Next; // taken before looking, so work made ready meanwhile wakes us
            var (claims, lostSome) = await ClaimReadyAsync(options, cancellationToken).ConfigureAwait(false);
            // Another process changed a task we reached for and got nothing else: steps of ours may still be ready
            // there, and that process's claim announces nothing. Look once more now rather than come back empty.
            if (claims.Count == 0 && lostSome)
                (claims, _) = await ClaimReadyAsync(options, cancellationToken).ConfigureAwait(false);
            var remaining = wait - Stopwatch.GetElapsedTime(started);
            if (claims.Count > 0 || remaining <= TimeSpan.Zero)
                return claims;
            // Another process's NOTIFY or this process's own change wakes us; the poll covers a lost notification.
            var poll = remaining < Options.WorkPollInterval ? remaining : Options.WorkPollInterval;
            await Task.WhenAny(woken, Task.Delay(poll, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static readonly TimeSpan MaxWorkWait = TimeSpan.FromSeconds(60);

    /// <summary>Claims of one work claim running at once (each holds a store connection while it runs).</summary>
    private const int MaxParallelClaims = 8;

    /// <summary>One pass over the ready tasks; <c>LostSome</c> when a task was skipped because another process changed it first.</summary>
    private async ValueTask<(IReadOnlyList<StepClaim> Claims, bool LostSome)> ClaimReadyAsync(WorkClaimOptions options, CancellationToken cancellationToken)
    {
        var query = new WorkQuery(options.Handlers, options.Namespaces, options.MaxSteps);
        var tasks = await _store.FindReadyTasksAsync(query, Now, cancellationToken).ConfigureAwait(false);

        // First one step from each of the leading tasks of the top priority, several at once: their writes reach the
        // store together and share a commit where it batches them (PostgreSQL's group commit). Then, while room is
        // left, more steps task by task in order. Within one priority the oldest tasks thus get a step each before
        // any gets a second; a lower priority never goes before a higher one.
        var first = tasks.TakeWhile(t => t.Priority == tasks[0].Priority).Take(Math.Min(options.MaxSteps, MaxParallelClaims)).ToArray();
        var firstWave = await Task.WhenAll(first.Select(task => TryClaimAsync(task.Uuid, 1, options, cancellationToken))).ConfigureAwait(false);
        var claims = new List<StepClaim>();
        Exception? failure = null;
        var lostSome = false;
        foreach (var (made, _, lost, error) in firstWave)
        {
            claims.AddRange(made);
            lostSome |= lost;
            failure ??= error;
        }
        for (var i = 0; i < tasks.Count; i++)
        {
            var room = options.MaxSteps - claims.Count;
            if (room <= 0 || failure is not null) break;
            // A task of the first wave again only if its claim left steps ready for us: asking again otherwise costs a
            // load to learn there is nothing (and delays the claims already made).
            if (i < first.Length && !firstWave[i].MoreReady) continue;
            var (made, _, lost, error) = await TryClaimAsync(tasks[i].Uuid, room, options, cancellationToken).ConfigureAwait(false);
            claims.AddRange(made);
            lostSome |= lost;
            failure ??= error;
        }
        // The claims made are committed and their attempts counted: return them rather than leave them in flight until
        // their leases expire. A failure shows again on the next call if it lasts.
        if (claims.Count == 0 && failure is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        return (claims, lostSome);
    }

    /// <summary>
    /// One task's claim for a work claim: its claims, whether steps it could run are still ready, whether it was
    /// skipped because another process changed the task first, or its error.
    /// </summary>
    private async Task<(IReadOnlyList<StepClaim> Claims, bool MoreReady, bool Lost, Exception? Error)> TryClaimAsync(Guid task, int maxSteps,
        WorkClaimOptions options, CancellationToken cancellationToken)
    {
        try
        {
            // Found as a hint: a task another process changed first is skipped (it most likely took the step), not
            // loaded again to learn so; the next find sees it again if steps of ours are still ready there.
            var result = await TimedClaim(task, new ClaimOptions(maxSteps, options.Lease, options.WorkerId, options.Handlers),
                yieldToOthers: true, cancellationToken).ConfigureAwait(false);
            if (result is null) return ([], false, true, null);
            var othersOnly = result.Outcome.WaitingForHandlers?.Sum(w => w.Steps.Count) ?? 0;
            return (result.Claims, result.Outcome.ReadySteps > othersOnly, false, null);
        }
        catch (TaskerException e) when (e.Code == TaskerErrorCode.NotFound)
        {
            return ([], false, false, null); // pruned or evicted since it was found: nothing to claim there
        }
        catch (TaskerException e)
        {
            return ([], false, false, e);
        }
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
