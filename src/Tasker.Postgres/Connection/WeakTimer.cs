namespace Tasker.Postgres.Connection;

/// <summary>
/// A periodic timer that does not keep its target alive. A <see cref="Timer"/> roots the state it calls back with, so
/// a store a host dropped without disposing it would stay in memory for the life of the process. This one holds its
/// target weakly; once the target is collected, so is the timer it held (which stops it). The tick must not capture
/// the target (use a static lambda), or it roots it again.
/// </summary>
internal static class WeakTimer
{
    public static Timer Start<T>(T target, Action<T> tick, TimeSpan period) where T : class =>
        new(static s => ((Ticker<T>)s!).Tick(), new Ticker<T>(new WeakReference<T>(target), tick), period, period);

    private sealed class Ticker<T>(WeakReference<T> target, Action<T> tick) where T : class
    {
        public void Tick()
        {
            if (target.TryGetTarget(out var alive)) tick(alive);
        }
    }
}
