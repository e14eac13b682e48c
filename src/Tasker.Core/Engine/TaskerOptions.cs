namespace Tasker.Core;

/// <summary>Engine-wide settings. Per-step template settings override the retry and backoff defaults.</summary>
public sealed class TaskerOptions
{
    /// <summary>Attempts a step gets when its template does not say (the first attempt included).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Backoff after attempt n is <c>base * 2^(n-1)</c>, capped at <see cref="MaxBackoff"/>, with jitter.</summary>
    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Relative jitter applied to exponential backoff: 0.1 means ±10 %.</summary>
    public double Jitter { get; init; } = 0.1;

    /// <summary>How long a claim lasts without a heartbeat before another worker may take the step over.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>
    /// When ready steps wait only for handlers the caller does not have, the outcome says <c>reenqueue</c> after this
    /// long, so a queue-driven host hands the task on (to a worker that has them) instead of dropping it.
    /// </summary>
    public TimeSpan MissingHandlerRequeue { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often a waiting worker looks for work without being woken: the fallback when another process's
    /// announcement (PostgreSQL NOTIFY) is lost. Work made ready in this process wakes its workers at once.
    /// </summary>
    public TimeSpan WorkPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a task whose steps a worker has just claimed stays with that worker (PostgreSQL): while every running
    /// step of the task was claimed less than this long ago by another worker, a work claim skips the task's other ready
    /// steps, and that worker takes them (its report one, through a completion's <c>claim_next</c>, its next work claim the
    /// others), where another process's
    /// claim of them would make that report lose its compare-and-set and write again. Past it, any worker claims them
    /// (a long step does not hold its siblings back), and a waiting work claim looks again then. The cost: a ready step
    /// the holding worker has no handler for (a DAG whose steps run in several languages) waits up to this long for
    /// another worker. Zero: no affinity.
    /// </summary>
    public TimeSpan WorkAffinity { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The memory store keeps at most this many finished (complete, cancelled, resolved) tasks.</summary>
    public int MaxFinishedTasks { get; init; } = 10_000;

    /// <summary>Default buffer size of an event subscription.</summary>
    public int EventBufferCapacity { get; init; } = 10_000;

    /// <summary>The clock. Tests inject a <see cref="ManualClock"/> so they never sleep.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Where the engine logs (category <c>Tasker.Engine</c>; see <see cref="Logging.EngineLog"/>). Logs never carry
    /// task contexts, step results or handler error messages. Default: nowhere.
    /// </summary>
    public Microsoft.Extensions.Logging.ILoggerFactory LoggerFactory { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;

    /// <summary>
    /// The environment whose <c>environments:</c> template overrides apply at registration (Rails Tasker's
    /// <c>Rails.env</c>): by default the first of <c>TASKER_ENV</c>, <c>RAILS_ENV</c>, <c>APP_ENV</c> that is set.
    /// </summary>
    public string? Environment { get; init; } = Templates.TemplateParseOptions.EnvironmentFromProcess();

    /// <summary>Seed for backoff jitter; null uses a shared, unseeded generator.</summary>
    public int? RandomSeed { get; init; }

    internal void Validate()
    {
        if (MaxAttempts is < 1 or > 1000) throw TaskerException.InvalidArgument("max_attempts must be between 1 and 1000", "max_attempts");
        if (BackoffBase < TimeSpan.Zero || MaxBackoff < TimeSpan.Zero) throw TaskerException.InvalidArgument("backoff must not be negative", "backoff");
        if (Jitter is < 0 or > 1) throw TaskerException.InvalidArgument("jitter must be between 0 and 1", "backoff.jitter");
        if (LeaseDuration <= TimeSpan.Zero) throw TaskerException.InvalidArgument("lease must be positive", "lease_seconds");
        if (MissingHandlerRequeue < TimeSpan.FromSeconds(1)) throw TaskerException.InvalidArgument("missing_handler_requeue_seconds must be at least 1 (a queue would spin on a task nobody present can run)", "missing_handler_requeue_seconds");
        if (WorkPollInterval <= TimeSpan.Zero) throw TaskerException.InvalidArgument("work_poll_seconds must be positive", "work_poll_seconds");
        if (WorkAffinity < TimeSpan.Zero || WorkAffinity > TimeSpan.FromHours(1))
            throw TaskerException.InvalidArgument("work_affinity_seconds must be between 0 and 3600", "work_affinity_seconds");
        if (MaxFinishedTasks < 0) throw TaskerException.InvalidArgument("retention.max_finished_tasks must not be negative", "retention.max_finished_tasks");
        if (EventBufferCapacity < 1) throw TaskerException.InvalidArgument("event buffer must be positive", "event_buffer");
    }
}
