using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Tasker.Core;

namespace Tasker.Postgres.Bench;

/// <summary>
/// One worker process, shaped like a host's job runner: a few lanes (threads of a Sidekiq/Celery worker) share a
/// queue of task uuids; a lane takes a task, claims its ready steps, runs the no-op handler for each, reports the
/// result, and keeps driving the task until nothing is ready (then puts it back) or it is finished (then drops it).
/// Handlers fail on their first attempt when the task's context lists the step in "fail" (a retryable failure).
/// </summary>
internal sealed class Worker(TaskerEngine engine, WorkerSettings settings)
{
    private readonly ConcurrentQueue<Guid> _queue = new();
    private readonly ConcurrentBag<long> _claimLatency = [];
    private readonly StreamWriter? _log = settings.LogPath is null ? null : new StreamWriter(settings.LogPath, append: true) { AutoFlush = true };
    private readonly object _logGate = new();
    private long _steps;
    private long _claims;
    private long _stale;
    private long _dbErrors;
    private long _firstClaimTicks = long.MaxValue;
    private long _lastStepTicks;
    private int _remaining;

    public async Task<WorkerReport> RunAsync(IReadOnlyList<Guid> tasks, PostgresStore store, CancellationToken cancellationToken)
    {
        var baseline = store.Statistics;
        foreach (var task in Rotate(tasks, settings.Offset))
            _queue.Enqueue(task);
        _remaining = tasks.Count;
        await Task.WhenAll(Enumerable.Range(0, settings.Lanes).Select(lane => Task.Run(() => LaneAsync(lane, cancellationToken), cancellationToken)));
        _log?.Dispose();
        return new WorkerReport(settings.WorkerId, _steps, _claims, _stale, _dbErrors,
            new DateTimeOffset(_firstClaimTicks == long.MaxValue ? DateTime.UtcNow.Ticks : _firstClaimTicks, TimeSpan.Zero),
            new DateTimeOffset(_lastStepTicks == 0 ? DateTime.UtcNow.Ticks : _lastStepTicks, TimeSpan.Zero),
            [.. _claimLatency], store.Statistics.Since(baseline));
    }

    private static IEnumerable<Guid> Rotate(IReadOnlyList<Guid> tasks, int offset)
    {
        for (var i = 0; i < tasks.Count; i++)
            yield return tasks[(i + offset) % tasks.Count];
    }

    private async Task LaneAsync(int lane, CancellationToken cancellationToken)
    {
        var idle = 0;
        while (Volatile.Read(ref _remaining) > 0 && !cancellationToken.IsCancellationRequested)
        {
            if (!_queue.TryDequeue(out var task))
            {
                await Task.Delay(5, cancellationToken);
                continue;
            }
            bool finished, progressed;
            try
            {
                (finished, progressed) = await DriveAsync(task, cancellationToken);
            }
            catch (TaskerException e) when (e.Code is TaskerErrorCode.Database or TaskerErrorCode.Timeout)
            {
                // The store already retried; a host would re-enqueue the job. So do we.
                Interlocked.Increment(ref _dbErrors);
                Console.Error.WriteLine($"{settings.WorkerId}/{lane}: {e.Code}: {e.Message}");
                (finished, progressed) = (false, false);
                await Task.Delay(50, cancellationToken);
            }
            if (finished)
            {
                Interlocked.Decrement(ref _remaining);
                continue;
            }
            _queue.Enqueue(task);
            idle = progressed ? 0 : idle + 1;
            if (idle > 0)
                await Task.Delay(Math.Min(idle, 20), cancellationToken); // everything in flight elsewhere or waiting for retry
        }
    }

    /// <summary>Runs the task's ready steps until none are left; returns whether the task is finished.</summary>
    private async Task<(bool Finished, bool Progressed)> DriveAsync(Guid task, CancellationToken cancellationToken)
    {
        var progressed = false;
        while (true)
        {
            var started = Stopwatch.GetTimestamp();
            var claim = await engine.ClaimStepsAsync(task, new ClaimOptions(settings.ClaimBatch, settings.Lease, settings.WorkerId), cancellationToken);
            if (claim.Claims.Count == 0)
                return (IsFinished(claim.Outcome), progressed);

            _claimLatency.Add((long)Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            Interlocked.Increment(ref _claims);
            UpdateMin(ref _firstClaimTicks, DateTime.UtcNow.Ticks);
            if (settings.AnnounceClaims)
                foreach (var c in claim.Claims)
                    Console.Out.WriteLine($"CLAIMED {c.TaskUuid} {c.StepName} {c.Attempt}");

            TaskOutcome? outcome = null;
            foreach (var step in claim.Claims)
            {
                outcome = await RunStepAsync(step, cancellationToken) ?? outcome;
                progressed = true;
            }
            if (outcome is not null && IsFinished(outcome))
                return (true, true);
        }
    }

    private async Task<TaskOutcome?> RunStepAsync(StepClaim step, CancellationToken cancellationToken)
    {
        if (settings.Hold > TimeSpan.Zero)
            await Task.Delay(settings.Hold, cancellationToken);
        Log($"EXEC {step.TaskUuid} {step.StepName} {step.Attempt} {settings.WorkerId}");
        try
        {
            TaskOutcome outcome;
            if (step.Attempt == 1 && ShouldFail(step))
                outcome = await engine.FailStepAsync(step.TaskUuid, step.StepUuid, step.ClaimToken,
                    new StepFailure("injected failure", "BenchFailure"), cancellationToken: cancellationToken);
            else
                outcome = await engine.CompleteStepAsync(step.TaskUuid, step.StepUuid, step.ClaimToken, JsonValues.EmptyObject, cancellationToken: cancellationToken);
            Interlocked.Increment(ref _steps);
            UpdateMax(ref _lastStepTicks, DateTime.UtcNow.Ticks);
            return outcome;
        }
        catch (TaskerException e) when (e.Code == TaskerErrorCode.StaleClaim)
        {
            // Our lease expired and someone else took the step over: our result is rejected, theirs counts.
            Interlocked.Increment(ref _stale);
            Log($"STALE {step.TaskUuid} {step.StepName} {step.Attempt} {settings.WorkerId}");
            return null;
        }
    }

    private static bool ShouldFail(StepClaim step) =>
        step.Context.TryGetProperty("fail", out var fail) && fail.ValueKind == JsonValueKind.Array &&
        fail.EnumerateArray().Any(f => f.GetString() == step.StepName);

    private static bool IsFinished(TaskOutcome outcome) =>
        outcome.Action is RecommendedAction.Complete or RecommendedAction.Error or RecommendedAction.Cancelled;

    private void Log(string line)
    {
        if (_log is null) return;
        lock (_logGate)
            _log.WriteLine(line);
    }

    private static void UpdateMin(ref long target, long value)
    {
        long current;
        while (value < (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }

    private static void UpdateMax(ref long target, long value)
    {
        long current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}

/// <summary>Settings of one worker process.</summary>
internal sealed record WorkerSettings(
    string WorkerId,
    int Lanes,
    int ClaimBatch,
    TimeSpan Lease,
    TimeSpan Hold,
    int Offset,
    string? LogPath,
    bool AnnounceClaims);
