using System.Text.Json;

namespace Tasker.Core;

/// <summary>
/// One step of one task: its fixed definition (copied from the template when the task is created, so a task is
/// self-contained even if the template changes) and its mutable execution state. Mutated only by the engine,
/// under the task's exclusive lock.
/// </summary>
public sealed class WorkflowStep
{
    public required Guid Uuid { get; init; }
    public required int Index { get; init; }
    public required string Name { get; init; }
    public required string Handler { get; init; }
    public JsonElement? Initialization { get => Get(Has.Initialization, _initialization); init => _initialization = Set(Has.Initialization, value); }
    public required bool Retryable { get; init; }
    public required int MaxAttempts { get; init; }
    public double? BackoffBaseSeconds { get => Get(Has.BackoffBase, _backoffBase); init => _backoffBase = Set(Has.BackoffBase, value); }
    public double? MaxBackoffSeconds { get => Get(Has.MaxBackoff, _maxBackoff); init => _maxBackoff = Set(Has.MaxBackoff, value); }
    public int? TimeoutSeconds { get => Get(Has.Timeout, _timeout); init => _timeout = Set(Has.Timeout, value); }

    public StepState State { get; internal set; }
    public int Attempts { get; internal set; }
    public JsonElement? Result { get => Get(Has.Result, _result); internal set => _result = Set(Has.Result, value); }
    public JsonElement? Metadata { get => Get(Has.Metadata, _metadata); internal set => _metadata = Set(Has.Metadata, value); }
    public StepError? LastError { get; internal set; }
    public DateTimeOffset? NextRetryAt { get => GetTime(Has.NextRetryAt, _nextRetryAt); internal set => _nextRetryAt = SetTime(Has.NextRetryAt, value); }
    public string? ClaimToken { get; internal set; }
    public DateTimeOffset? LeaseExpiresAt { get => GetTime(Has.LeaseExpiresAt, _leaseExpiresAt); internal set => _leaseExpiresAt = SetTime(Has.LeaseExpiresAt, value); }
    public string? ClaimedBy { get; internal set; }
    public DateTimeOffset? StartedAt { get => GetTime(Has.StartedAt, _startedAt); internal set => _startedAt = SetTime(Has.StartedAt, value); }
    public DateTimeOffset? FinishedAt { get => GetTime(Has.FinishedAt, _finishedAt); internal set => _finishedAt = SetTime(Has.FinishedAt, value); }

    // The optional values are stored without Nullable<T>'s padding (a DateTimeOffset? or a JsonElement? takes 24 bytes,
    // the value 16), one bit each saying whether it is set, and the times as UTC ticks (8 bytes; the engine's times
    // are UTC, and an instant read back is equal to the one stored): every retained finished task keeps its steps, so
    // this is paid per step (about 208 bytes a step instead of 296).
    [Flags]
    private enum Has : ushort
    {
        Initialization = 1, BackoffBase = 2, MaxBackoff = 4, Timeout = 8, Result = 16, Metadata = 32,
        NextRetryAt = 64, LeaseExpiresAt = 128, StartedAt = 256, FinishedAt = 512,
    }

    private Has _has;
    private long _nextRetryAt, _leaseExpiresAt, _startedAt, _finishedAt;
    private JsonElement _initialization, _result, _metadata;
    private double _backoffBase, _maxBackoff;
    private int _timeout;

    private T? Get<T>(Has flag, T value) where T : struct => (_has & flag) != 0 ? value : null;

    private DateTimeOffset? GetTime(Has flag, long utcTicks) => (_has & flag) != 0 ? new DateTimeOffset(utcTicks, TimeSpan.Zero) : null;

    private long SetTime(Has flag, DateTimeOffset? value)
    {
        if (value is { } set)
        {
            _has |= flag;
            return set.UtcTicks;
        }
        _has &= ~flag;
        return 0;
    }

    private T Set<T>(Has flag, T? value) where T : struct
    {
        if (value is { } set)
        {
            _has |= flag;
            return set;
        }
        _has &= ~flag;
        return default;
    }
}
