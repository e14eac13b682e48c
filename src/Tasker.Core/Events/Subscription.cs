namespace Tasker.Core.Events;

/// <summary>
/// A pull-based event subscription with a bounded buffer. When the buffer is full new events are dropped and
/// counted in <see cref="Dropped"/> (the engine is never slowed by a slow reader). Thread-safe.
/// </summary>
public sealed class Subscription : IDisposable
{
    private readonly EventBus _bus;
    private readonly Queue<TaskerEvent> _buffer;
    private readonly int _capacity;
    private long _dropped;
    private bool _disposed;

    internal Subscription(EventBus bus, EventPattern pattern, int capacity)
    {
        _bus = bus;
        Pattern = pattern;
        _capacity = capacity;
        _buffer = new Queue<TaskerEvent>(Math.Min(capacity, 1024));
    }

    public EventPattern Pattern { get; }

    /// <summary>Events dropped since the subscription opened because its buffer was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public int Buffered
    {
        get
        {
            lock (_buffer)
                return _buffer.Count;
        }
    }

    internal void Offer(TaskerEvent e)
    {
        lock (_buffer)
        {
            if (_disposed) return;
            if (_buffer.Count >= _capacity)
            {
                _dropped++;
                return;
            }
            _buffer.Enqueue(e);
        }
    }

    /// <summary>Removes and returns up to <paramref name="max"/> buffered events, oldest first; never blocks.</summary>
    public IReadOnlyList<TaskerEvent> Pull(int max = 1000)
    {
        lock (_buffer)
        {
            var count = Math.Min(Math.Max(max, 0), _buffer.Count);
            if (count == 0) return [];
            var batch = new TaskerEvent[count];
            for (var i = 0; i < count; i++)
                batch[i] = _buffer.Dequeue();
            return batch;
        }
    }

    public void Dispose()
    {
        lock (_buffer)
        {
            if (_disposed) return;
            _disposed = true;
            _buffer.Clear();
        }
        _bus.Unsubscribe(this);
    }
}
