namespace Tasker.Core;

/// <summary>What a handler reports when a step attempt fails.</summary>
/// <param name="Message">Human-readable message (never parsed).</param>
/// <param name="ErrorType">The handler's error class, e.g. <c>Timeout::Error</c> or <c>ValueError</c>.</param>
/// <param name="Permanent">True when retrying cannot help; the step goes straight to <c>error</c>.</param>
/// <param name="RetryAfterSeconds">A handler-given delay; wins over exponential backoff (capped at the maximum).</param>
/// <param name="Backtrace">The handler's backtrace, one frame per entry.</param>
public sealed record StepFailure(
    string Message,
    string? ErrorType = null,
    bool Permanent = false,
    double? RetryAfterSeconds = null,
    IReadOnlyList<string>? Backtrace = null);

/// <summary>The last failure recorded on a step, with when and on which attempt it happened.</summary>
public sealed record StepError(string Message, string? ErrorType, bool Permanent, int Attempt, DateTimeOffset At, IReadOnlyList<string>? Backtrace);
