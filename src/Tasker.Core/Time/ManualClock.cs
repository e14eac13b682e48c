namespace Tasker.Core;

/// <summary>A clock that only moves when told to: deterministic retries and leases in tests and fixtures.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public ManualClock() : this(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)) { }

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero) throw TaskerException.InvalidArgument("the clock cannot go backwards", "milliseconds");
        Interlocked.Add(ref _ticks, by.Ticks);
    }
}
