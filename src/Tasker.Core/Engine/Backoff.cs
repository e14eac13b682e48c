namespace Tasker.Core;

/// <summary>
/// Retry delays: a handler-given <c>retry_after</c> wins (capped at the maximum); otherwise
/// <c>base * 2^(attempt-1)</c>, capped, with ±jitter. Step settings override engine defaults.
/// </summary>
internal sealed class Backoff(TaskerOptions options)
{
    private readonly Random? _seeded = options.RandomSeed is { } seed ? new Random(seed) : null;

    public TimeSpan Delay(WorkflowStep step, int attempt, double? retryAfterSeconds)
    {
        var max = step.MaxBackoffSeconds ?? options.MaxBackoff.TotalSeconds;
        if (retryAfterSeconds is { } requested)
            return TimeSpan.FromSeconds(Math.Clamp(requested, 0, max));

        var baseSeconds = step.BackoffBaseSeconds ?? options.BackoffBase.TotalSeconds;
        var exponential = Math.Min(baseSeconds * Math.Pow(2, Math.Max(attempt - 1, 0)), max);
        var jittered = exponential * (1 + options.Jitter * (2 * NextDouble() - 1));
        return TimeSpan.FromSeconds(Math.Clamp(jittered, 0, max));
    }

    private double NextDouble()
    {
        if (_seeded is null) return Random.Shared.NextDouble();
        lock (_seeded)
            return _seeded.NextDouble();
    }
}
