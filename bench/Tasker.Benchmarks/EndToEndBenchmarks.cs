using BenchmarkDotNet.Attributes;
using Tasker.Core;

namespace Tasker.Benchmarks;

/// <summary>
/// No-op steps end to end on the memory store, as a host drives them: create a task, claim its ready steps,
/// complete each, follow the outcome. Reported per step. Target: at least 200,000 steps/s (under 5 µs per step).
/// </summary>
[MemoryDiagnoser]
public class EndToEndBenchmarks
{
    private const int StepsPerTask = 8;
    private const int Tasks = 250;
    private TaskerEngine _engine = null!;

    /// <summary>Steps per claim call: 64 claims a whole wave; 1 mirrors the C ABI bench (bench/abi), one step per claim.</summary>
    [Params(1, 64)]
    public int ClaimBatch { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _engine = TaskerEngine.InMemory(new TaskerOptions { MaxFinishedTasks = 1_000 });
        var yaml = "name: pipeline\nnamespace_name: bench\nversion: 1.0.0\nsteps:\n" +
                   string.Concat(Enumerable.Range(0, StepsPerTask).Select(i =>
                       $"  - name: s{i}\n    handler: {{ callable: Noop }}\n" + (i >= 3 ? $"    dependencies: [s{i % 3}]\n" : "")));
        await _engine.RegisterTemplateAsync(yaml);
    }

    [GlobalCleanup]
    public async Task Cleanup() => await _engine.DisposeAsync();

    [Benchmark(OperationsPerInvoke = StepsPerTask * Tasks)]
    public async Task<int> NoopStep()
    {
        var request = new TaskRequest { Namespace = "bench", Name = "pipeline" };
        var done = 0;
        for (var t = 0; t < Tasks; t++)
        {
            var task = (await _engine.CreateTaskAsync(request)).Task.TaskUuid;
            var outcome = await _engine.EvaluateAsync(task);
            while (outcome.Action == RecommendedAction.Execute)
            {
                var claim = await _engine.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: ClaimBatch));
                foreach (var step in claim.Claims)
                {
                    outcome = await _engine.CompleteStepAsync(task, step.StepUuid, step.ClaimToken, JsonValues.Null);
                    done++;
                }
            }
        }
        return done;
    }
}
