using BenchmarkDotNet.Attributes;
using Tasker.Core;

namespace Tasker.Benchmarks;

/// <summary>
/// One incremental update: a step finishing (in_progress → complete) re-examines only its children. Measured over a
/// whole 1,000-step layered DAG run to completion, per step. Target: under 2 µs.
/// </summary>
[MemoryDiagnoser]
public class IncrementalBenchmarks
{
    private const int Steps = 1_000;
    private int[][] _parents = null!;
    private WorkflowTask _task = null!;
    private readonly int[] _order = new int[Steps];

    [GlobalSetup]
    public void Setup() => _parents = Dags.Layered(Steps);

    [IterationSetup]
    public void Fresh()
    {
        _task = Dags.Task(_parents);
        for (var i = 0; i < Steps; i++) _order[i] = i; // index order is a topological order for Layered
        foreach (var i in _order)
            _task.TransitionStep(i, StepState.InProgress, "bench", null, DateTimeOffset.UnixEpoch);
        _task.AcceptChanges();
    }

    [Benchmark(OperationsPerInvoke = Steps)]
    public int CompleteOneStep()
    {
        var now = DateTimeOffset.UnixEpoch;
        foreach (var i in _order)
            _task.TransitionStep(i, StepState.Complete, "bench", null, now);
        return _task.Candidates.Length;
    }
}
