namespace Tasker.Core.Events;

/// <summary>
/// In-process publish/subscribe for lifecycle events. Hosts subscribe with a pattern and pull batches; the engine
/// never waits for a subscriber: each subscription has a bounded buffer and counts what it had to drop. With no
/// subscribers, publishing costs one volatile read, and events nobody wants are never built.
/// </summary>
public sealed class EventBus
{
    private readonly object _gate = new();
    private volatile Subscription[] _subscriptions = [];
    private long _sequence;

    /// <summary>The default buffer size of a subscription (events kept until pulled).</summary>
    public int DefaultCapacity { get; init; } = 10_000;

    /// <summary>
    /// Subscribes to events whose name matches <paramref name="pattern"/>: an exact name, <c>*</c> for everything,
    /// or a prefix ending in <c>.*</c> such as <c>step.*</c>.
    /// </summary>
    public Subscription Subscribe(string pattern, int capacity = 0)
    {
        var subscription = new Subscription(this, EventPattern.Parse(pattern), capacity > 0 ? capacity : DefaultCapacity);
        lock (_gate)
            _subscriptions = [.. _subscriptions, subscription];
        return subscription;
    }

    internal void Unsubscribe(Subscription subscription)
    {
        lock (_gate)
            _subscriptions = _subscriptions.Where(s => s != subscription).ToArray();
    }

    public int SubscriberCount => _subscriptions.Length;

    /// <summary>True when at least one subscription matches <paramref name="name"/>.</summary>
    public bool IsWanted(string name)
    {
        var subscriptions = _subscriptions;
        if (subscriptions.Length == 0) return false;
        foreach (var s in subscriptions)
            if (s.Pattern.Matches(name))
                return true;
        return false;
    }

    public void Publish(TaskerEvent e)
    {
        var subscriptions = _subscriptions;
        if (subscriptions.Length == 0) return;
        e.Sequence = Interlocked.Increment(ref _sequence);
        foreach (var s in subscriptions)
            if (s.Pattern.Matches(e.Name))
                s.Offer(e);
    }

    public void Publish(List<TaskerEvent> events)
    {
        foreach (var e in events)
            Publish(e);
    }
}
