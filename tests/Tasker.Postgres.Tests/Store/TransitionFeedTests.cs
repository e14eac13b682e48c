using Tasker.Postgres.Queries;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// <see cref="TransitionFeed"/> reads the audit trail in windows of keys through a BRIN index (migration 8): a trail
/// spread over hours, with a burst of more than one batch inside a single second, comes back whole, once, in order.
/// </summary>
public sealed class TransitionFeedTests : PostgresTest
{
    [PostgresFact]
    public async Task A_feed_far_behind_reads_every_transition_once_across_sparse_hours_and_a_dense_burst()
    {
        var (engine, store) = await EngineAsync();
        await engine.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(engine, PgWorkflows.Flat);

        // Rows made in the past as a writer would have made them: UUIDv7 keys of their own time, appended in time order.
        // 400 every 50 ms from where the feed starts (its first, small windows end among them); 300 spread over the next
        // two hours; 1,200 within one second half an hour ago (more than two batches in one window).
        var now = DateTimeOffset.UtcNow;
        var start = now.AddHours(-2);
        var times = Enumerable.Range(0, 400).Select(i => start.AddMilliseconds(1 + i * 50))
            .Concat(Enumerable.Range(0, 300).Select(i => start.AddMinutes(1).AddSeconds(i * 23.0)))
            .Concat(Enumerable.Range(0, 1200).Select(i => now.AddMinutes(-30).AddTicks(i * 8_000)))
            .Order().ToArray();
        var keys = times.Select(Key).ToArray();
        var ordinals = Enumerable.Range(1000, times.Length).ToArray();
        await TestSql.ExecuteAsync(Schema, """
            INSERT INTO tasker_workflow_step_transitions (transition_uuid, task_uuid, step_uuid, ordinal, from_state, to_state,
                reason, attempt, created_at)
            SELECT k, $2, $2, o, 'pending', 'in_progress', 'seeded', 1, t
            FROM unnest($1::uuid[], $3::integer[], $4::timestamptz[]) AS u(k, o, t)
            """, keys, task, ordinals, times.Select(t => t.UtcDateTime).ToArray());

        var read = await new TransitionFeed(store.DataSource).StartAt(start).ReadAsync();

        var seeded = read.Where(e => e.Reason == "seeded").Select(e => e.TransitionUuid).ToArray();
        Assert.Equal(keys.Length, seeded.Length);
        Assert.Equal(keys.Order(), seeded.Order());
        Assert.Equal(read.OrderBy(e => e.At).ThenBy(e => e.Ordinal).Select(e => e.TransitionUuid), read.Select(e => e.TransitionUuid));
        // The task's own trail (made just now) comes after, in the same read.
        Assert.Contains(read, e => e.Reason != "seeded" && e.TaskUuid == task);
    }

    [Fact]
    public void Floor_and_ceiling_keys_bound_every_key_of_their_millisecond()
    {
        var at = DateTimeOffset.UtcNow;
        var key = Key(at);
        var ms = TimeSpan.FromMilliseconds(1);
        Assert.Equal(at.ToUnixTimeMilliseconds(), TransitionFeed.KeyTime(key).ToUnixTimeMilliseconds());
        Assert.True(Compare(TransitionFeed.FloorKey(at), key) <= 0);
        Assert.True(Compare(key, TransitionFeed.CeilingKey(at)) <= 0);
        Assert.True(Compare(TransitionFeed.CeilingKey(at - ms), key) < 0);
        Assert.True(Compare(key, TransitionFeed.FloorKey(at + ms)) < 0);
    }

    /// <summary>A UUIDv7 of the millisecond <paramref name="at"/> with random bits (as Guid.CreateVersion7 makes it).</summary>
    private static Guid Key(DateTimeOffset at) => Guid.CreateVersion7(at);

    private static int Compare(Guid a, Guid b) => a.ToByteArray(bigEndian: true).AsSpan().SequenceCompareTo(b.ToByteArray(bigEndian: true));
}
