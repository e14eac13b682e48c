using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>Retention: <c>PruneFinishedAsync</c> (what <c>tasker prune</c> runs) and the store's optional periodic sweep.</summary>
public sealed class RetentionTests : PostgresTest
{
    private static readonly string Two = PgWorkflows.Yaml("two", ("a", []), ("b", ["a"]));

    private static async Task FinishAsync(TaskerEngine engine, Guid task, bool fail = false)
    {
        while (true)
        {
            var claims = (await engine.ClaimStepsAsync(task)).Claims;
            if (claims.Count == 0) return;
            foreach (var c in claims)
                if (fail) await engine.FailStepAsync(task, c.StepUuid, c.ClaimToken, new StepFailure("boom", Permanent: true));
                else await engine.CompleteStepAsync(task, c.StepUuid, c.ClaimToken, JsonValues.Null);
        }
    }

    /// <summary>Two old finished tasks (one complete, one cancelled), one old failed one, one old pending one, one recent complete one.</summary>
    private async Task<(TaskerEngine Engine, PostgresStore Store, Guid[] Old, Guid Failed, Guid Pending, Guid Recent)> SeedAsync(
        Func<PostgresStoreOptions, PostgresStoreOptions>? configure = null)
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow.AddDays(-3));
        var (engine, store) = await EngineAsync(clock, configure);
        await engine.RegisterTemplateAsync(Two);
        var complete = await CreateAsync(engine, Two);
        await FinishAsync(engine, complete);
        var cancelled = await CreateAsync(engine, Two);
        await engine.CancelTaskAsync(cancelled);
        var failed = await CreateAsync(engine, Two);
        await FinishAsync(engine, failed, fail: true);
        var pending = await CreateAsync(engine, Two);
        clock.Advance(TimeSpan.FromDays(3));
        var recent = await CreateAsync(engine, Two);
        await FinishAsync(engine, recent);
        return (engine, store, [complete, cancelled], failed, pending, recent);
    }

    private static async Task<bool> ExistsAsync(TaskerEngine engine, Guid task)
    {
        try
        {
            await engine.GetTaskAsync(task, includeTransitions: true);
            return true;
        }
        catch (TaskerException e) when (e.Code == TaskerErrorCode.NotFound)
        {
            return false;
        }
    }

    [PostgresFact]
    public async Task Prune_deletes_old_finished_tasks_with_their_trail_in_batches_and_keeps_the_rest()
    {
        var (_, store, old, failed, pending, recent) = await SeedAsync();
        Assert.Equal(2, await store.PruneFinishedAsync(DateTimeOffset.UtcNow.AddDays(-1), batchSize: 1));

        var (reader, _) = await EngineAsync(); // another process: no cached copies
        foreach (var task in old) Assert.False(await ExistsAsync(reader, task));
        Assert.True(await ExistsAsync(reader, failed));
        Assert.True(await ExistsAsync(reader, pending));
        Assert.True(await ExistsAsync(reader, recent));
        Assert.Equal(0, await TestSql.ScalarAsync<long>(Schema, "SELECT count(*) FROM tasker_task_transitions WHERE task_uuid = ANY($1)", (object)old));

        Assert.Equal(1, await store.PruneFinishedAsync(DateTimeOffset.UtcNow.AddDays(-1), includeErrors: true));
        Assert.False(await ExistsAsync(reader, failed));
        await Assert.ThrowsAsync<TaskerException>(() => store.PruneFinishedAsync(DateTimeOffset.UtcNow, batchSize: 0).AsTask());
    }

    [PostgresFact]
    public async Task The_retention_setting_sweeps_finished_tasks_older_than_it()
    {
        var (_, store, old, failed, _, recent) = await SeedAsync(o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString, Schema = o.Schema, FinishedTaskRetention = TimeSpan.FromDays(1), RetentionInterval = TimeSpan.FromHours(1),
        });
        await store.SweepAsync();

        var (reader, _) = await EngineAsync();
        foreach (var task in old) Assert.False(await ExistsAsync(reader, task));
        Assert.True(await ExistsAsync(reader, failed));
        Assert.True(await ExistsAsync(reader, recent));
    }
}
