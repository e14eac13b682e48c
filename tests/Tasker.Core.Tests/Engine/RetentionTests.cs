using Tasker.Core.Storage.Memory;
using Tasker.Core.Tests.Support;
using Xunit;

namespace Tasker.Core.Tests.Engine;

public sealed class RetentionTests
{
    [Fact]
    public async Task The_memory_store_evicts_the_oldest_finished_tasks_beyond_the_retention_limit()
    {
        var clock = new ManualClock();
        var store = new MemoryStore(maxFinishedTasks: 3);
        await using var engine = new TaskerEngine(store, new TaskerOptions { Time = clock, MaxFinishedTasks = 3 });
        await engine.RegisterTemplateAsync(Workflows.Linear);
        var tasks = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var task = (await engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "linear" })).Task.TaskUuid;
            await new Runner(engine, clock).RunAsync(task);
            tasks.Add(task);
        }
        var open = (await engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "linear" })).Task.TaskUuid;

        Assert.Equal(4, store.TaskCount);
        await Assert.ThrowsAsync<TaskerException>(() => engine.GetTaskAsync(tasks[0]).AsTask());
        Assert.Equal(TaskState.Complete, (await engine.GetTaskAsync(tasks[4])).State);
        Assert.Equal(TaskState.Pending, (await engine.GetTaskAsync(open)).State);
    }
}
