using Microsoft.Extensions.Logging;
using Polly;
using Tasker.Postgres.Diagnostics;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Tasker.Postgres.Resilience;

/// <summary>
/// The one resilience pipeline every store operation runs in, outermost first: a timeout for the whole operation,
/// retries of transient failures with jittered exponential backoff, and a circuit breaker that fails fast while the
/// database is down. Every operation of the store is written to be safe to run again (see PostgresStore), which is
/// what makes retrying them correct.
/// </summary>
internal static class StorePipeline
{
    /// <param name="timeout">The limit of one operation including retries (migrations get their own, longer one).</param>
    public static ResiliencePipeline Build(PostgresStoreOptions options, StoreCounters counters, TimeSpan timeout)
    {
        var transient = new PredicateBuilder().Handle<Exception>(TransientErrors.IsTransient);
        var log = options.LoggerFactory.CreateLogger(StoreLog.Category);
        var builder = new ResiliencePipelineBuilder().AddTimeout(new TimeoutStrategyOptions { Timeout = timeout });
        if (options.MaxRetries > 0)
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = transient,
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = TimeSpan.FromSeconds(5),
                OnRetry = args =>
                {
                    counters.Retry();
                    StoreLog.Retrying(log, StoreLog.Kind(args.Outcome.Exception), args.AttemptNumber + 1, options.MaxRetries,
                        (long)args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            });
        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = transient,
                FailureRatio = options.CircuitFailureRatio,
                MinimumThroughput = options.CircuitMinimumThroughput,
                SamplingDuration = options.CircuitSamplingDuration,
                BreakDuration = options.CircuitBreakDuration,
                OnOpened = args =>
                {
                    StoreLog.CircuitOpened(log, StoreLog.Kind(args.Outcome.Exception), args.BreakDuration.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    StoreLog.CircuitClosed(log);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }
}
