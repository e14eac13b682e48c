using Npgsql;
using Tasker.Postgres.Connection;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// The store hands out its idle connections last in, first out (<see cref="IdleConnections"/>): calls made one after
/// another run on the one warm connection, whose prepared statements are planned, instead of on every connection of
/// the pool in turn.
/// </summary>
public sealed class IdleConnectionsTests : PostgresTest
{
    [PostgresFact]
    public async Task Calls_one_after_another_run_on_one_connection()
    {
        var store = await StoreAsync();
        await HoldConnectionsAsync(store, 4); // the pool has several idle connections now

        var backends = new HashSet<int>();
        for (var i = 0; i < 20; i++)
            backends.Add(await BackendAsync(store));

        Assert.Single(backends);
    }

    [PostgresFact]
    public async Task Calls_at_once_each_get_a_connection_of_their_own()
    {
        var store = await StoreAsync();

        var backends = await HoldConnectionsAsync(store, 4);

        Assert.Equal(4, backends.Distinct().Count());
    }

    [PostgresFact]
    public async Task A_call_waiting_for_a_connection_gets_the_next_one_returned()
    {
        // Npgsql's wait for a connection would end only at its Timeout: a connection kept idle here instead of going
        // to the waiting call would stall it that long.
        var store = await StoreAsync(o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString + ";Timeout=60", Schema = o.Schema, ApplicationName = o.ApplicationName, MaxPoolSize = 2,
        });
        var release = new TaskCompletionSource();
        var holders = Enumerable.Range(0, 2).Select(_ => store.Executor.RunAsync("hold", release.Task, static async (_, r, _) =>
        {
            await r;
            return 0;
        }, CancellationToken.None).AsTask()).ToList();
        await WaitUntilAsync(() => store.Executor.ConnectionsInUse >= 2, TimeSpan.FromSeconds(30),
            "the pool's connections were never taken");
        var waiting = BackendAsync(store).AsTask();
        await Task.Delay(200); // the call is waiting in Npgsql's pool

        release.SetResult();

        await waiting.WaitAsync(TimeSpan.FromSeconds(20));
        await Task.WhenAll(holders);
    }

    [PostgresFact]
    public async Task The_host_gets_a_connection_of_the_shared_pool_while_the_store_keeps_its_idle_ones()
    {
        var store = await StoreAsync(o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString + ";Timeout=60", Schema = o.Schema, ApplicationName = o.ApplicationName, MaxPoolSize = 2,
        });
        await HoldConnectionsAsync(store, 2); // both connections of the pool are now idle in the store

        await using var own = await store.DataSource.OpenConnectionAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(System.Data.ConnectionState.Open, own.State);
    }

    [PostgresFact]
    public async Task A_connection_returned_while_the_store_holds_the_whole_pool_goes_to_the_host_waiting_for_one()
    {
        var store = await StoreAsync(o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString + ";Timeout=60", Schema = o.Schema, ApplicationName = o.ApplicationName, MaxPoolSize = 2,
        });
        await using var idle = new IdleConnections(store.DataSource);
        var first = await idle.RentAsync(CancellationToken.None);
        var second = await idle.RentAsync(CancellationToken.None);
        var host = store.DataSource.OpenConnectionAsync().AsTask();
        await Task.Delay(200); // the host is waiting in Npgsql's pool

        await idle.ReturnAsync(first, reusable: true);

        // At once, not once the idle limit (5 s) hands it back.
        await using var own = await host.WaitAsync(TimeSpan.FromSeconds(3));
        Assert.Equal(0, idle.Count);
        await idle.ReturnAsync(second, reusable: true);
    }

    [PostgresFact]
    public async Task A_connection_that_broke_takes_the_idle_ones_with_it()
    {
        var store = await StoreAsync();
        await using var idle = new IdleConnections(store.DataSource);
        var broken = await idle.RentAsync(CancellationToken.None);
        await idle.ReturnAsync(await idle.RentAsync(CancellationToken.None), reusable: true);
        Assert.Equal(1, idle.Count);
        await TestSql.ExecuteAsync(null, $"SELECT pg_terminate_backend({broken.ProcessID})");
        await using (var command = new NpgsqlCommand("SELECT 1", broken))
            await Assert.ThrowsAnyAsync<Exception>(() => command.ExecuteScalarAsync());

        await idle.ReturnAsync(broken, reusable: false);

        Assert.Equal(0, idle.Count);
    }

    [PostgresFact]
    public async Task A_connection_returned_under_a_transaction_scope_is_not_kept()
    {
        var store = await StoreAsync();
        await using var idle = new IdleConnections(store.DataSource);
        using (new System.Transactions.TransactionScope(System.Transactions.TransactionScopeAsyncFlowOption.Enabled))
        {
            var connection = await idle.RentAsync(CancellationToken.None);

            await idle.ReturnAsync(connection, reusable: true);
        }

        Assert.Equal(0, idle.Count);
    }

    [PostgresFact]
    public async Task A_connection_whose_call_failed_is_not_kept()
    {
        var store = await StoreAsync();
        await using var idle = new IdleConnections(store.DataSource);
        var connection = await idle.RentAsync(CancellationToken.None);

        await idle.ReturnAsync(connection, reusable: false);

        Assert.Equal(0, idle.Count);
        Assert.Equal(System.Data.ConnectionState.Closed, connection.FullState);
    }

    [PostgresFact]
    public async Task A_call_after_the_server_ended_the_idle_connection_goes_through()
    {
        var store = await StoreAsync();
        var before = await BackendAsync(store);
        await TestSql.ExecuteAsync(null, $"SELECT pg_terminate_backend({before})");

        var after = await BackendAsync(store);

        Assert.NotEqual(before, after);
    }

    [PostgresFact]
    public async Task A_connection_idle_past_the_idle_lifetime_goes_back_to_the_pool()
    {
        var store = await StoreAsync(o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString + ";Connection Idle Lifetime=1;Connection Pruning Interval=1",
            Schema = o.Schema, ApplicationName = o.ApplicationName,
        });
        await using var idle = new IdleConnections(store.DataSource);
        await idle.ReturnAsync(await idle.RentAsync(CancellationToken.None), reusable: true);
        Assert.Equal(1, idle.Count);

        await WaitUntilAsync(() => idle.Count == 0, TimeSpan.FromSeconds(10), "the idle connection was never given back");
    }

    [PostgresFact]
    public async Task The_connection_returned_last_stays_idle_after_the_others_went_back()
    {
        // A process calling every few seconds then keeps its warm backend: Npgsql's pool would hand out its oldest.
        var store = await StoreAsync();
        await using var idle = new IdleConnections(store.DataSource, keepIdle: TimeSpan.FromMilliseconds(200));
        var older = await idle.RentAsync(CancellationToken.None);
        var last = await idle.RentAsync(CancellationToken.None);
        var lastBackend = last.ProcessID;
        await idle.ReturnAsync(older, reusable: true);
        await idle.ReturnAsync(last, reusable: true);

        await WaitUntilAsync(() => idle.Count <= 1, TimeSpan.FromSeconds(10), "the older idle connection was never given back");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // a prune or more past the idle limit

        Assert.Equal(1, idle.Count);
        var again = await idle.RentAsync(CancellationToken.None);
        Assert.Equal(lastBackend, again.ProcessID);
        await idle.ReturnAsync(again, reusable: true);
    }

    [PostgresFact]
    public async Task In_a_pool_of_under_four_the_connection_returned_last_goes_back_too()
    {
        // There one connection held idle is a large share of the pool, which a host sharing it may need.
        var store = await StoreAsync(o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString, Schema = o.Schema, ApplicationName = o.ApplicationName, MaxPoolSize = 3,
        });
        await using var idle = new IdleConnections(store.DataSource, keepIdle: TimeSpan.FromMilliseconds(200));
        await idle.ReturnAsync(await idle.RentAsync(CancellationToken.None), reusable: true);

        await WaitUntilAsync(() => idle.Count == 0, TimeSpan.FromSeconds(10), "the idle connection was never given back");
    }

    [PostgresFact]
    public async Task The_connection_kept_warm_goes_back_once_taken_a_connection_lifetime_ago()
    {
        var store = await StoreAsync(o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString + ";Connection Lifetime=2", Schema = o.Schema, ApplicationName = o.ApplicationName,
        });
        await using var idle = new IdleConnections(store.DataSource, keepIdle: TimeSpan.FromMilliseconds(200));
        await idle.ReturnAsync(await idle.RentAsync(CancellationToken.None), reusable: true);
        Assert.Equal(1, idle.Count); // taken under its lifetime ago: kept, and warm past the idle limit

        await WaitUntilAsync(() => idle.Count == 0, TimeSpan.FromSeconds(10), "the connection kept warm was never given back");
    }

    [PostgresFact]
    public async Task A_connection_taken_from_the_pool_a_connection_lifetime_ago_is_not_kept()
    {
        var store = await StoreAsync(o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString + ";Connection Lifetime=1", Schema = o.Schema, ApplicationName = o.ApplicationName,
        });
        await using var idle = new IdleConnections(store.DataSource);
        var connection = await idle.RentAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(1.2));

        await idle.ReturnAsync(connection, reusable: true);

        Assert.Equal(0, idle.Count);
    }

    [PostgresFact]
    public async Task Without_pooling_nothing_is_kept()
    {
        var store = await StoreAsync(o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString + ";Pooling=false", Schema = o.Schema, ApplicationName = o.ApplicationName,
        });
        await using var idle = new IdleConnections(store.DataSource);

        await idle.ReturnAsync(await idle.RentAsync(CancellationToken.None), reusable: true);

        Assert.Equal(0, idle.Count);
    }

    /// <summary>Polls until <paramref name="done"/>; fails saying <paramref name="never"/> after <paramref name="timeout"/>.</summary>
    private static async Task WaitUntilAsync(Func<bool> done, TimeSpan timeout, string never)
    {
        var until = DateTime.UtcNow + timeout;
        while (!done())
        {
            Assert.True(DateTime.UtcNow < until, never);
            await Task.Delay(50);
        }
    }

    private static ValueTask<int> BackendAsync(PostgresStore store) =>
        store.Executor.RunAsync("test", 0, static async (connection, _, token) =>
        {
            await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
            return (int)(await command.ExecuteScalarAsync(token))!;
        }, CancellationToken.None);

    /// <summary>Runs <paramref name="count"/> calls that each hold their connection until all of them have one; their backends.</summary>
    private static async Task<int[]> HoldConnectionsAsync(PostgresStore store, int count)
    {
        var all = new TaskCompletionSource();
        var holding = 0;
        var calls = Enumerable.Range(0, count).Select(_ => store.Executor.RunAsync("hold", all, async (connection, release, token) =>
        {
            await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
            var pid = (int)(await command.ExecuteScalarAsync(token))!;
            if (Interlocked.Increment(ref holding) == count) release.SetResult();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(60), token);
            return pid;
        }, CancellationToken.None).AsTask()).ToList();
        return await Task.WhenAll(calls);
    }
}
