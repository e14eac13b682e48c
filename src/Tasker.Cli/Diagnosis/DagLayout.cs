using Tasker.Core;

namespace Tasker.Cli.Diagnosis;

/// <summary>
/// Steps arranged in levels: a step's level is one more than its deepest dependency, so every edge points to a
/// later level. The text view prints one line per level; the dashboard draws one column per level.
/// </summary>
internal static class DagLayout
{
    public static IReadOnlyList<IReadOnlyList<StepView>> Levels(TaskView task)
    {
        var level = new Dictionary<string, int>();
        int LevelOf(StepView s)
        {
            if (level.TryGetValue(s.Name, out var known)) return known;
            level[s.Name] = 0; // a DAG has no cycles (validated); this only guards the recursion
            var l = s.Dependencies.Count == 0 ? 0 : s.Dependencies.Max(d => LevelOf(task.Step(d))) + 1;
            level[s.Name] = l;
            return l;
        }
        foreach (var s in task.Steps) LevelOf(s);
        return task.Steps.GroupBy(s => level[s.Name]).OrderBy(g => g.Key).Select(g => (IReadOnlyList<StepView>)g.ToArray()).ToArray();
    }
}
