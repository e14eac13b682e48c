using Tasker.Core;
using Tasker.Core.Templates;
using Tasker.Postgres.Tasks;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>The copies of tasks this process last committed: bounded, and never replaced by an older copy.</summary>
public sealed class TaskCacheTests
{
    private static readonly TaskTemplate Template = TemplateParser.Parse(PgWorkflows.Yaml("cache", ("only", [])));

    private static WorkflowTask NewTask() =>
        Tasker.Core.TaskFactory.Create(Template, new TaskRequest { Namespace = "pg", Name = "cache" }, new TaskerOptions(), DateTimeOffset.UtcNow);

    [Fact]
    public void It_never_holds_more_tasks_than_its_capacity()
    {
        var cache = new TaskCache(capacity: 100);

        for (var i = 0; i < 1_000; i++)
        {
            cache.Put(new CachedTask(NewTask(), 0, 1, null));
            cache.Offer(new CachedTask(NewTask(), 0, 1, null));
        }

        Assert.InRange(cache.Count, 1, 100);
    }

    [Fact]
    public void An_offered_copy_replaces_the_held_one_only_when_it_is_newer()
    {
        var cache = new TaskCache(capacity: 100);
        var task = NewTask();
        cache.Put(new CachedTask(task, RowVersion: 5, TransitionCount: 1, WriteUuid: null));

        cache.Offer(new CachedTask(task, RowVersion: 4, TransitionCount: 1, WriteUuid: null));
        Assert.True(cache.TryTake(task.Uuid, out var kept));
        Assert.Equal(5, kept.RowVersion);

        cache.Put(kept);
        cache.Offer(new CachedTask(task, RowVersion: 6, TransitionCount: 2, WriteUuid: null));
        Assert.True(cache.TryTake(task.Uuid, out var newer));
        Assert.Equal(6, newer.RowVersion);
    }

    [Fact]
    public void A_taken_copy_is_gone_until_it_is_put_back()
    {
        var cache = new TaskCache(capacity: 100);
        var task = NewTask();
        cache.Put(new CachedTask(task, 0, 1, null));

        Assert.True(cache.TryTake(task.Uuid, out _));
        Assert.False(cache.TryTake(task.Uuid, out _));
        Assert.Equal(0, cache.Count);
    }
}
