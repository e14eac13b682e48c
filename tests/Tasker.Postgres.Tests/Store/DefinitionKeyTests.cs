using Tasker.Core;
using Tasker.Core.Templates;
using Tasker.Postgres.Tasks;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// A create's definition key comes from the shape of the last task created from the same template when its steps are
/// defined alike, and is the hash of its steps either way.
/// </summary>
public sealed class DefinitionKeyTests
{
    /// <summary>Two steps, the second with no max_attempts of its own: the engine's default fills it in.</summary>
    private static readonly TaskTemplate Template = TemplateParser.Parse("""
        name: keys
        namespace_name: pg
        version: 1.0.0
        steps:
          - name: a
            handler: { callable: a_handler }
            retry: { retryable: true, max_attempts: 3 }
          - name: b
            handler: { callable: b_handler }
            dependencies: [a]
        """);

    private static WorkflowTask NewTask(TaskerOptions? options = null) =>
        Tasker.Core.TaskFactory.Create(Template, new TaskRequest { Namespace = "pg", Name = "keys" }, options ?? new TaskerOptions(),
            DateTimeOffset.UtcNow);

    [Fact]
    public void A_task_of_a_template_already_created_from_gets_the_key_its_steps_hash_to()
    {
        var shapes = new TaskShapeCache(8, new StoreCounters());
        var first = NewTask();
        var remembered = shapes.KeyOf(first);
        shapes.Remember(remembered, first);
        var second = NewTask();

        Assert.Equal(DefinitionKey.Compute(second), shapes.KeyOf(second));
        Assert.Same(remembered, shapes.KeyOf(second)); // the remembered key itself: not hashed again
    }

    [Fact]
    public void A_task_of_the_same_template_whose_steps_are_defined_otherwise_gets_a_key_of_its_own()
    {
        var shapes = new TaskShapeCache(8, new StoreCounters());
        var first = NewTask();
        shapes.Remember(shapes.KeyOf(first), first);

        // The engine's default attempts fill in the steps' max_attempts: same template graph, other definitions.
        var other = NewTask(new TaskerOptions { MaxAttempts = 7 });

        Assert.NotEqual(shapes.KeyOf(first), shapes.KeyOf(other));
        Assert.Equal(DefinitionKey.Compute(other), shapes.KeyOf(other));
    }
}
