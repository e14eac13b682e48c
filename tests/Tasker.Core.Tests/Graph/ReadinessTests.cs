using Tasker.Core.Graph;
using Tasker.Core.Templates;
using Xunit;

namespace Tasker.Core.Tests.Graph;

/// <summary>The incremental readiness bookkeeping always agrees with a full recomputation.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public void Incremental_readiness_matches_a_full_pass_after_every_change_on_random_dags()
    {
        var random = new Random(1234);
        for (var trial = 0; trial < 20; trial++)
        {
            var task = RandomTask(random, 200);
            var reference = RandomTaskCopy(task);
            var now = DateTimeOffset.UnixEpoch;
            while (task.Candidates.Length > 0)
            {
                var pick = task.Candidates[random.Next(task.Candidates.Length)];
                task.TransitionStep(pick, StepState.InProgress, "t", null, now);
                task.TransitionStep(pick, random.Next(10) == 0 ? StepState.Error : StepState.Complete, "t", null, now);
                task.AcceptChanges();

                CopyStates(task, reference);
                reference.RebuildReadiness();
                Assert.Equal(reference.Candidates.ToArray().Order(), task.Candidates.ToArray().Order());
            }
        }
    }

    [Fact]
    public void Completing_a_step_only_unblocks_children_whose_every_parent_is_satisfied()
    {
        // a, b -> c ; a -> d
        var task = Build(new[] { Array.Empty<int>(), [], [0, 1], [0] });
        var now = DateTimeOffset.UnixEpoch;
        Assert.Equal([0, 1], task.Candidates.ToArray().Order());
        task.TransitionStep(0, StepState.InProgress, "t", null, now);
        task.TransitionStep(0, StepState.Complete, "t", null, now);
        Assert.Equal([1, 3], task.Candidates.ToArray().Order());
        Assert.Equal(1, task.UnsatisfiedParents(2));
    }

    [Fact]
    public void A_wide_fan_in_of_ten_thousand_parents_unblocks_its_child_on_the_last_completion()
    {
        const int width = 10_000;
        var parents = new int[width + 1][];
        for (var i = 0; i < width; i++) parents[i] = [];
        parents[width] = Enumerable.Range(0, width).ToArray();
        var task = Build(parents);
        var now = DateTimeOffset.UnixEpoch;
        for (var i = 0; i < width; i++)
        {
            Assert.False(task.IsCandidate(width));
            task.TransitionStep(i, StepState.InProgress, "t", null, now);
            task.TransitionStep(i, StepState.Complete, "t", null, now);
            task.AcceptChanges();
        }
        Assert.True(task.IsCandidate(width));
    }

    [Fact]
    public void A_ten_thousand_step_chain_has_no_cycle_and_does_not_overflow_the_stack()
    {
        var parents = Enumerable.Range(0, 10_000).Select(i => i == 0 ? Array.Empty<int>() : [i - 1]).ToArray();
        Assert.Null(DagShape.FromParents(parents).FindCycle());
    }

    internal static WorkflowTask Build(IReadOnlyList<int[]> parents)
    {
        var steps = parents.Select((_, i) => new WorkflowStep
        {
            Uuid = Guid.NewGuid(), Index = i, Name = $"s{i}", Handler = "H", Retryable = true, MaxAttempts = 3,
        }).ToArray();
        var header = new TaskHeader { Uuid = Guid.NewGuid(), Namespace = "n", Name = "t", Version = "1.0.0" };
        return new WorkflowTask(header, steps, DagShape.FromParents(parents));
    }

    private static WorkflowTask RandomTask(Random random, int size)
    {
        var parents = new int[size][];
        for (var i = 0; i < size; i++)
            parents[i] = i == 0 ? [] : Enumerable.Range(0, random.Next(Math.Min(i, 4) + 1)).Select(_ => random.Next(i)).Distinct().ToArray();
        return Build(parents);
    }

    private static WorkflowTask RandomTaskCopy(WorkflowTask task) =>
        Build(Enumerable.Range(0, task.Steps.Count).Select(i => task.Graph.ParentsOf(i).ToArray()).ToArray());

    private static void CopyStates(WorkflowTask from, WorkflowTask to)
    {
        for (var i = 0; i < from.Steps.Count; i++)
        {
            to.Steps[i].State = from.Steps[i].State;
            to.Steps[i].Attempts = from.Steps[i].Attempts;
        }
    }
}
