using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using Tasker.Core;
using Tasker.Core.Graph;
using Tasker.Postgres.Sql;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// Process-wide cache of <see cref="TaskShape"/>s by definition key. A miss costs two small queries for one task
/// (definitions, edges); after that every task of that template version loads with the one-row query alone.
/// </summary>
internal sealed class TaskShapeCache(int capacity, StoreCounters counters)
{
    internal sealed class DefinitionRow
    {
        public int StepIndex { get; set; }
        public string Name { get; set; } = "";
        public string Handler { get; set; } = "";
        public string? Initialization { get; set; }
        public bool Retryable { get; set; }
        public int MaxAttempts { get; set; }
        public double? BackoffBaseSeconds { get; set; }
        public double? MaxBackoffSeconds { get; set; }
        public int? TimeoutSeconds { get; set; }
    }

    internal sealed class EdgeRow
    {
        public int Child { get; set; }
        public int Parent { get; set; }
        public int Position { get; set; }
    }

    private readonly ConcurrentDictionary<string, TaskShape> _shapes = new(StringComparer.Ordinal);

    /// <summary>
    /// The shape last remembered for each template graph a create used: tasks of one template share its graph, so the
    /// next create finds its definition key here instead of hashing its steps again (<see cref="KeyOf"/>).
    /// </summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<DagShape, TaskShape> _byGraph = new();

    public int Count => _shapes.Count;

    /// <summary>Remembers the shape of a task this process just created (no query needed later).</summary>
    public void Remember(string key, WorkflowTask task)
    {
        if (!_byGraph.TryGetValue(task.Graph, out var shape) || shape.Key != key)
        {
            var steps = new StepDefinition[task.Steps.Count];
            foreach (var s in task.Steps)
                steps[s.Index] = new StepDefinition(s.Name, s.Handler, s.Initialization, s.Retryable, s.MaxAttempts,
                    s.BackoffBaseSeconds, s.MaxBackoffSeconds, s.TimeoutSeconds);
            shape = new TaskShape(key, steps, task.Graph);
            _byGraph.AddOrUpdate(task.Graph, shape);
        }
        if (!_shapes.ContainsKey(key)) Add(shape);
    }

    /// <summary>
    /// The definition key of a task about to be created: that of an earlier task of the same template when its steps
    /// are defined alike (a re-registered template brings another graph; the engine's default attempts can differ),
    /// otherwise hashed (<see cref="DefinitionKey.Compute"/>).
    /// </summary>
    public string KeyOf(WorkflowTask task) =>
        _byGraph.TryGetValue(task.Graph, out var shape) && shape.Defines(task) ? shape.Key : DefinitionKey.Compute(task);

    /// <summary>The shape if this process knows it already (no query).</summary>
    public bool TryGet(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TaskShape? shape) =>
        _shapes.TryGetValue(key, out shape);

    public async ValueTask<TaskShape> GetAsync(NpgsqlConnection connection, string key, Guid taskUuid, CancellationToken cancellationToken)
    {
        if (_shapes.TryGetValue(key, out var shape)) return shape;

        var args = new { TaskUuid = taskUuid, Cancel = cancellationToken };
        // ToList, not Dapper's AsList (see TaskQueries).
        var definitions = (await connection.QueryAsync<DefinitionRow>(TaskSql.Definitions, args).ConfigureAwait(false)).ToList();
        var edges = (await connection.QueryAsync<EdgeRow>(TaskSql.Edges, args).ConfigureAwait(false)).ToList();
        counters.RoundTrip(1);
        counters.RoundTrip(1);

        var steps = new StepDefinition[definitions.Count];
        foreach (var d in definitions)
            steps[d.StepIndex] = new StepDefinition(d.Name, d.Handler,
                d.Initialization is null ? null : JsonValues.Parse(d.Initialization, "step initialization"),
                d.Retryable, d.MaxAttempts, d.BackoffBaseSeconds, d.MaxBackoffSeconds, d.TimeoutSeconds);
        var parents = new List<(int Parent, int Position)>[steps.Length];
        for (var i = 0; i < parents.Length; i++)
            parents[i] = [];
        foreach (var e in edges)
            parents[e.Child].Add((e.Parent, e.Position));
        var graph = DagShape.FromParents(parents.Select(list => list.OrderBy(p => p.Position).Select(p => p.Parent).ToArray()).ToArray());

        shape = new TaskShape(key, steps, graph);
        Add(shape);
        return shape;
    }

    private void Add(TaskShape shape)
    {
        // Shapes are small and few (one per template version in use); the bound only stops a pathological leak.
        if (_shapes.Count >= capacity) _shapes.Clear();
        _shapes[shape.Key] = shape;
    }
}
