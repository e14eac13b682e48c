namespace Tasker.Core.Graph;

/// <summary>
/// The immutable shape of a step DAG in compressed-sparse-row form: for step <c>i</c> its parents are
/// <c>Parents[ParentStart[i]..ParentStart[i+1]]</c>, likewise its children. Flat int arrays keep readiness passes
/// cache-friendly for 10,000+ step graphs. One shape is shared by every task created from a template.
/// </summary>
public sealed class DagShape
{
    private readonly int[] _parentStart;
    private readonly int[] _parents;
    private readonly int[] _childStart;
    private readonly int[] _children;

    private DagShape(int count, int[] parentStart, int[] parents, int[] childStart, int[] children)
    {
        Count = count;
        _parentStart = parentStart;
        _parents = parents;
        _childStart = childStart;
        _children = children;
    }

    public int Count { get; }

    public int EdgeCount => _parents.Length;

    public ReadOnlySpan<int> ParentsOf(int step) => _parents.AsSpan(_parentStart[step], _parentStart[step + 1] - _parentStart[step]);

    public ReadOnlySpan<int> ChildrenOf(int step) => _children.AsSpan(_childStart[step], _childStart[step + 1] - _childStart[step]);

    public int ParentCount(int step) => _parentStart[step + 1] - _parentStart[step];

    /// <summary>Builds a shape from per-step parent lists (already validated: indices in range, no duplicates).</summary>
    public static DagShape FromParents(IReadOnlyList<int[]> parentsOf)
    {
        var count = parentsOf.Count;
        var parentStart = new int[count + 1];
        for (var i = 0; i < count; i++)
            parentStart[i + 1] = parentStart[i] + parentsOf[i].Length;
        var parents = new int[parentStart[count]];
        var childCounts = new int[count];
        for (var i = 0; i < count; i++)
        {
            parentsOf[i].CopyTo(parents, parentStart[i]);
            foreach (var p in parentsOf[i])
                childCounts[p]++;
        }

        var childStart = new int[count + 1];
        for (var i = 0; i < count; i++)
            childStart[i + 1] = childStart[i] + childCounts[i];
        var children = new int[parents.Length];
        var fill = (int[])childStart.Clone();
        for (var i = 0; i < count; i++)
            foreach (var p in parentsOf[i])
                children[fill[p]++] = i;

        return new DagShape(count, parentStart, parents, childStart, children);
    }

    /// <summary>
    /// Returns one cycle (as step indices, first repeated at the end) or null when the graph is acyclic.
    /// Iterative DFS so a 10,000-step chain cannot overflow the stack.
    /// </summary>
    public int[]? FindCycle()
    {
        var color = new byte[Count]; // 0 = unvisited, 1 = on the current path, 2 = done
        var parentInPath = new int[Count];
        var nextChild = new int[Count];
        var stack = new Stack<int>();
        for (var root = 0; root < Count; root++)
        {
            if (color[root] != 0) continue;
            stack.Push(root);
            color[root] = 1;
            parentInPath[root] = -1;
            while (stack.Count > 0)
            {
                var node = stack.Peek();
                var children = ChildrenOf(node);
                if (nextChild[node] < children.Length)
                {
                    var child = children[nextChild[node]++];
                    if (color[child] == 0)
                    {
                        color[child] = 1;
                        parentInPath[child] = node;
                        stack.Push(child);
                    }
                    else if (color[child] == 1)
                    {
                        var cycle = new List<int> { child };
                        for (var n = node; n != child; n = parentInPath[n])
                            cycle.Add(n);
                        cycle.Add(child);
                        cycle.Reverse();
                        return [.. cycle];
                    }
                }
                else
                {
                    color[node] = 2;
                    stack.Pop();
                }
            }
        }
        return null;
    }
}
