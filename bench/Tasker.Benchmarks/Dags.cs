using Tasker.Core;
using Tasker.Core.Graph;

namespace Tasker.Benchmarks;

/// <summary>DAG shapes for the readiness benchmarks.</summary>
internal static class Dags
{
    /// <summary>Layers of <paramref name="width"/> steps, each depending on two steps of the layer before.</summary>
    public static int[][] Layered(int steps, int width = 50)
    {
        var parents = new int[steps][];
        for (var i = 0; i < steps; i++)
        {
            var layerStart = i / width * width;
            parents[i] = i < width ? [] : [layerStart - width + i % width, layerStart - width + (i + 1) % width];
        }
        return parents;
    }

    /// <summary>Everything fans out from one root and back into one sink.</summary>
    public static int[][] WideFanIn(int steps)
    {
        var parents = new int[steps][];
        parents[0] = [];
        for (var i = 1; i < steps - 1; i++) parents[i] = [0];
        parents[steps - 1] = Enumerable.Range(1, steps - 2).ToArray();
        return parents;
    }

    public static WorkflowTask Task(int[][] parents)
    {
        var steps = parents.Select((_, i) => new WorkflowStep
        {
            Uuid = Guid.NewGuid(), Index = i, Name = $"s{i}", Handler = "H", Retryable = true, MaxAttempts = 3,
        }).ToArray();
        var header = new TaskHeader { Uuid = Guid.NewGuid(), Namespace = "bench", Name = "dag", Version = "1.0.0" };
        return new WorkflowTask(header, steps, DagShape.FromParents(parents));
    }
}
