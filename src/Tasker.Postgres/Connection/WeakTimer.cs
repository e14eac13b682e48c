namespace Tasker.Postgres.Connection;

/// <summary>
/// A periodic timer that does not keep its target alive. A <see cref="Timer"/> roots the state it calls back with, so
/// a store a host dropped without disposing it would stay in memory, with its connections, for the life of the
/// process. This one holds its target weakly and stops once the target is gone. The tick must not
/// capture the target (use a static lambda), or it roots it again.
/// </summary>
internal static class WeakTimer
{
    public static Timer Start<T>(T target, Action<T> tick, TimeSpan period) where T : class
    {
        var state = new State<T>(new WeakReference<T>(target), tick);
        state.Timer = new Timer(static s => ((State<T>)s!).Tick(), state, period, period);
        return state.Timer;
    }

    private sealed class State<T>(WeakReference<T> target, Action<T> tick) where T : class
    {
        public Timer? Timer;

        public void Tick()
        {
            if (target.TryGetTarget(out var alive)) tick(alive);
            else Timer?.Dispose();
        }
    }
}
