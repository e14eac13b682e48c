using BenchmarkDotNet.Attributes;
using Tasker.Core.Events;

namespace Tasker.Benchmarks;

/// <summary>
/// Events published in-process to one matching subscription, and pulled back in batches of 1,000. Target: at least
/// 1,000,000 events per second published (under 1 µs per event).
/// </summary>
[MemoryDiagnoser]
public class EventBenchmarks
{
    private const int Batch = 1_000;
    private EventBus _bus = null!;
    private Subscription _subscription = null!;
    private TaskerEvent[] _events = null!;

    [GlobalSetup]
    public void Setup()
    {
        _bus = new EventBus();
        _subscription = _bus.Subscribe("step.*", capacity: Batch * 2);
        _events = Enumerable.Range(0, Batch).Select(i => new TaskerEvent
        {
            Name = EventNames.StepCompleted, Timestamp = DateTimeOffset.UnixEpoch, TaskUuid = Guid.NewGuid(), StepName = $"s{i}",
        }).ToArray();
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int PublishAndPull()
    {
        foreach (var e in _events)
            _bus.Publish(e);
        return _subscription.Pull(Batch).Count;
    }
}
