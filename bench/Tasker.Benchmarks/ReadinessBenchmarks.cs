using BenchmarkDotNet.Attributes;
using Tasker.Core;

namespace Tasker.Benchmarks;

/// <summary>
/// The full readiness pass (what a store does after loading a task) for 1,000 and 10,000-step DAGs, with half the
/// steps complete so the pass does real work. Target: 1,000 steps under 50 µs.
/// </summary>
[MemoryDiagnoser]
public class ReadinessBenchmarks
{
    private WorkflowTask _task = null!;

    [Params(1_000, 10_000)]
    public int Steps { get; set; }

    [Params("layered", "wide_fan_in")]
    public string Shape { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _task = Dags.Task(Shape == "layered" ? Dags.Layered(Steps) : Dags.WideFanIn(Steps));
        var now = DateTimeOffset.UnixEpoch;
        for (var i = 0; i < Steps / 2; i++)
        {
            if (!_task.IsCandidate(i)) continue;
            _task.TransitionStep(i, StepState.InProgress, "bench", null, now);
            _task.TransitionStep(i, StepState.Complete, "bench", null, now);
        }
        _task.AcceptChanges();
    }

    [Benchmark]
    public int FullPass()
    {
        _task.RebuildReadiness();
        return _task.Candidates.Length;
    }
}
