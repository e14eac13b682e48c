using Tasker.Core.Events;
using Tasker.Core.Tests.Support;
using Xunit;

namespace Tasker.Core.Tests.Events;

public sealed class EventTests
{
    private readonly ManualClock _clock = new();

    private TaskerEngine NewEngine(int buffer = 10_000) => TaskerEngine.InMemory(new TaskerOptions { Time = _clock, Jitter = 0, EventBufferCapacity = buffer });

    private static async Task<Guid> Start(TaskerEngine engine, string yaml)
    {
        var t = await engine.RegisterTemplateAsync(yaml);
        return (await engine.CreateTaskAsync(new TaskRequest { Namespace = t.Namespace, Name = t.Name })).Task.TaskUuid;
    }

    [Theory]
    [InlineData("*", "step.completed", true)]
    [InlineData("step.*", "step.completed", true)]
    [InlineData("step.*", "task.completed", false)]
    [InlineData("task.completed", "task.completed", true)]
    [InlineData("task.completed", "task.completed_x", false)]
    public void Patterns_match_exact_names_prefixes_and_everything(string pattern, string name, bool matches) =>
        Assert.Equal(matches, EventPattern.Parse(pattern).Matches(name));

    [Theory]
    [InlineData("")]
    [InlineData("step*")]
    [InlineData("*.completed")]
    public void Malformed_patterns_are_rejected(string pattern) =>
        Assert.Equal(TaskerErrorCode.InvalidArgument, Assert.Throws<TaskerException>(() => EventPattern.Parse(pattern)).Code);

    [Fact]
    public async Task A_workflow_emits_transition_and_decision_events_in_order_per_task()
    {
        await using var engine = NewEngine();
        using var all = engine.Events.Subscribe("*");
        var task = await Start(engine, Workflows.Linear);
        await new Runner(engine, _clock).On("b", Behaviour.Retryable(), Behaviour.Return("1")).RunAsync(task);

        var events = all.Pull(10_000);
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        var names = events.Select(e => e.Name).ToList();
        Assert.Equal([EventNames.TemplateRegistered, EventNames.TaskCreated], names[..2]);
        Assert.Equal(EventNames.TaskCompleted, names.Last(n => n.StartsWith("task.", StringComparison.Ordinal)));
        foreach (var expected in new[] { EventNames.TaskStarted, EventNames.StepStarted, EventNames.StepCompleted, EventNames.StepRetryScheduled,
                     EventNames.TaskWaitingForRetry, EventNames.TaskResumed, EventNames.TaskReenqueued, EventNames.TaskEvaluated, EventNames.ViableStepsDiscovered })
            Assert.Contains(expected, names);

        var retry = events.Single(e => e.Name == EventNames.StepRetryScheduled);
        Assert.Equal(("b", "in_progress", "waiting_for_retry", 1), (retry.StepName, retry.FromState, retry.ToState, retry.Attempt));
        Assert.Equal("boom", retry.Error!.Message);
        Assert.All(events.Where(e => e.TaskUuid is not null), e => Assert.Equal(task, e.TaskUuid));
    }

    [Fact]
    public async Task A_subscription_only_receives_matching_events()
    {
        await using var engine = NewEngine();
        using var steps = engine.Events.Subscribe("step.completed");
        var task = await Start(engine, Workflows.Diamond);
        await new Runner(engine, _clock).RunAsync(task);

        var events = steps.Pull();
        Assert.Equal(4, events.Count);
        Assert.All(events, e => Assert.Equal(EventNames.StepCompleted, e.Name));
    }

    [Fact]
    public async Task A_full_subscriber_buffer_drops_and_counts_instead_of_blocking_the_engine()
    {
        await using var engine = NewEngine(buffer: 5);
        using var slow = engine.Events.Subscribe("*");
        var task = await Start(engine, Workflows.Pipeline);
        var outcome = await new Runner(engine, _clock).RunAsync(task);

        Assert.Equal(RecommendedAction.Complete, outcome.Action);
        Assert.Equal(5, slow.Buffered);
        Assert.True(slow.Dropped > 20, $"dropped {slow.Dropped}");
    }

    [Fact]
    public async Task A_disposed_subscription_receives_nothing_more()
    {
        await using var engine = NewEngine();
        var subscription = engine.Events.Subscribe("*");
        subscription.Dispose();
        await Start(engine, Workflows.Linear);
        Assert.Equal(0, engine.Events.SubscriberCount);
        Assert.Empty(subscription.Pull());
    }

    [Fact]
    public async Task Template_registration_is_announced()
    {
        await using var engine = NewEngine();
        using var workflow = engine.Events.Subscribe("workflow.template_registered");
        await engine.RegisterTemplateAsync(Workflows.Tree);
        var e = Assert.Single(workflow.Pull());
        Assert.Equal(("tree", "tests", "1.0.0"), (e.TaskName, e.Namespace, e.Data!["version"].GetString()));
    }

    [Fact]
    public void The_catalog_lists_every_event_name_once()
    {
        Assert.Equal(EventNames.All.Count, EventNames.All.Distinct().Count());
        foreach (var from in Enum.GetValues<StepState>())
            foreach (var to in Enum.GetValues<StepState>())
                if (Transitions.IsAllowed(from, to))
                    Assert.Contains(EventNames.ForStepTransition(from, to), EventNames.All);
        foreach (var from in Enum.GetValues<TaskState>())
            foreach (var to in Enum.GetValues<TaskState>())
                if (Transitions.IsAllowed(from, to))
                    Assert.Contains(EventNames.ForTaskTransition(from, to), EventNames.All);
    }
}
