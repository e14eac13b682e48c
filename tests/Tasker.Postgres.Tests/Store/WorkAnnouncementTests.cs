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
        var (listener, heard) = await ListenAsync();
        await using var _ = listener;

        using var announcer = await AnnouncerAsync(window: TimeSpan.FromSeconds(1));
        Assert.True(announcer.DueNow()); // the first of a burst: its caller sends it (here: nobody)
        Assert.False(announcer.DueNow()); // inside the window: not now...
        announcer.Deferred(); // ...but once the window ends
        announcer.Deferred(); // covered by the same one

        var waited = await WaitToHearAsync(listener, heard);
        await listener.WaitAsync(TimeSpan.FromMilliseconds(300)); // nothing more arrives
        Assert.Equal(1, heard());
        Assert.True(waited > TimeSpan.FromMilliseconds(500), "sent before the window ended");
    }

    [PostgresFact]
    public async Task The_announcement_owed_at_a_windows_end_is_carried_by_the_next_caller_instead_of_sent_alone()
    {
        var (listener, heard) = await ListenAsync();
        await using var _ = listener;
        using var announcer = await AnnouncerAsync(window: TimeSpan.FromMilliseconds(100), carryOver: TimeSpan.FromSeconds(1));
        Assert.True(announcer.DueNow());
        Assert.False(announcer.DueNow());
        announcer.Deferred();
        var deadline = Stopwatch.StartNew();
        while (!announcer.Owed && deadline.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(5);
        Assert.True(announcer.Owed);

        Assert.True(announcer.DueNow()); // its caller sends it (here: nobody)

        await listener.WaitAsync(TimeSpan.FromSeconds(1.5));
        Assert.Equal(0, heard());
        Assert.False(announcer.Owed);
    }

    [PostgresFact]
    public async Task The_announcement_owed_at_a_windows_end_goes_alone_when_no_caller_carries_it()
    {
        var (listener, heard) = await ListenAsync();
        await using var _ = listener;
        using var announcer = await AnnouncerAsync(window: TimeSpan.FromMilliseconds(100), carryOver: TimeSpan.FromMilliseconds(300));
        Assert.True(announcer.DueNow());
        Assert.False(announcer.DueNow());

        announcer.Deferred();

        var waited = await WaitToHearAsync(listener, heard);
        Assert.Equal(1, heard());
        Assert.True(waited > TimeSpan.FromMilliseconds(350), "sent before the window and the carry-over ended");
    }

    /// <summary>An announcer on the schema's work channel, sending through a store of its own.</summary>
    private async Task<Work.Announcer> AnnouncerAsync(TimeSpan window, TimeSpan carryOver = default)
    {
        var store = await StoreAsync();
        return new Work.Announcer(store.Executor, Work.WorkChannel.For(Schema), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
            window, carryOver);
    }

    /// <summary>Waits (up to 10 s) until the listener heard something; returns how long that took.</summary>
    private static async Task<TimeSpan> WaitToHearAsync(NpgsqlConnection listener, Func<int> heard)
    {
        var clock = Stopwatch.StartNew();
        while (heard() < 1 && clock.Elapsed < TimeSpan.FromSeconds(10))
            await listener.WaitAsync(TimeSpan.FromMilliseconds(200));
        return clock.Elapsed;
    }

    /// <summary>A connection listening on the schema's work channel, and a count of what it heard.</summary>
    private async Task<(NpgsqlConnection Listener, Func<int> Heard)> ListenAsync()
    {
        var listener = await TestSql.OpenAsync(Schema);
        var heard = 0;
        listener.Notification += (_, _) => Interlocked.Increment(ref heard);
        await using (var listen = new NpgsqlCommand(Work.WorkChannel.Listen(Work.WorkChannel.For(Schema)), listener))
            await listen.ExecuteNonQueryAsync();
        return (listener, () => Volatile.Read(ref heard));
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
