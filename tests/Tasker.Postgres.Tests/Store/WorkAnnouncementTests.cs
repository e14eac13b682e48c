using System.Diagnostics;
using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// Workers of other processes learn of new work through NOTIFY: a created task is announced by its own insert, and
/// announcements are coalesced without ever dropping the last one of a burst.
/// </summary>
public sealed class WorkAnnouncementTests : PostgresTest
{
    private static readonly string One = PgWorkflows.Yaml("one", ("only", []));

    [PostgresFact]
    public async Task A_worker_waiting_in_another_process_wakes_when_a_task_is_created()
    {
        var store = await StoreAsync();
        // Polling every minute: only the announcement can wake this worker within the test.
        var worker = new TaskerEngine(store, new TaskerOptions { WorkPollInterval = TimeSpan.FromSeconds(60) });
        var (creator, _) = await EngineAsync();
        await creator.RegisterTemplateAsync(One);
        var handlers = new HashSet<string>(StringComparer.Ordinal) { "only_handler" };

        var clock = Stopwatch.StartNew();
        var waiting = worker.ClaimWorkAsync(new WorkClaimOptions(handlers, 1, TimeSpan.FromSeconds(30), "w", null, TimeSpan.FromSeconds(30))).AsTask();
        await Task.Delay(500); // the claim looks, finds nothing and starts listening
        var task = await CreateAsync(creator, One);

        var claim = Assert.Single(await waiting);
        Assert.Equal(task, claim.TaskUuid);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"woke after {clock.Elapsed}");
    }

    [PostgresFact]
    public async Task Announcements_inside_the_coalescing_window_are_followed_by_one_at_its_end()
    {
        var store = await StoreAsync();
        await using var listener = await TestSql.OpenAsync(Schema);
        var heard = 0;
        listener.Notification += (_, _) => Interlocked.Increment(ref heard);
        await using (var listen = new NpgsqlCommand(Work.WorkChannel.Listen(Work.WorkChannel.For(Schema)), listener))
            await listen.ExecuteNonQueryAsync();

        using var announcer = new Work.Announcer(store.Executor, Work.WorkChannel.For(Schema), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeSpan.FromSeconds(1));
        Assert.True(announcer.DueNow()); // the first of a burst: its caller sends it (here: nobody)
        Assert.False(announcer.DueNow()); // inside the window: not now...
        announcer.Deferred(); // ...but once the window ends
        announcer.Deferred(); // covered by the same one

        var deadline = Stopwatch.StartNew();
        while (Volatile.Read(ref heard) < 1 && deadline.Elapsed < TimeSpan.FromSeconds(10))
            await listener.WaitAsync(TimeSpan.FromMilliseconds(200));
        await listener.WaitAsync(TimeSpan.FromMilliseconds(300)); // nothing more arrives
        Assert.Equal(1, Volatile.Read(ref heard));
        Assert.True(deadline.Elapsed > TimeSpan.FromMilliseconds(500), "sent before the window ended");
    }

    [Fact]
    public void Each_schema_has_its_own_channel_within_postgresql_identifier_length()
    {
        Assert.Equal("tasker_work", Work.WorkChannel.For(null));
        Assert.Equal("tasker_work.billing", Work.WorkChannel.For("billing"));
        Assert.NotEqual(Work.WorkChannel.For("billing"), Work.WorkChannel.For("shipping"));
        var longName = new string('s', 80);
        var hashed = Work.WorkChannel.For(longName);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(hashed) <= 63, hashed);
        Assert.NotEqual(hashed, Work.WorkChannel.For(new string('s', 81)));
        Assert.Equal("LISTEN \"tasker_work.a\"\"b\"", Work.WorkChannel.Listen("tasker_work.a\"b"));
    }
}
