using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// Worker mode's claims run on two connections of their own, taken out of <see cref="PostgresStoreOptions.MaxPoolSize"/>
/// (from 32 up): a claim does not wait behind the process's other calls for a connection, and the store still opens no
/// more connections than its pool size. (A claim that meets a task another worker is running a step of claims that
/// task's steps in turn with its reports, on the pool they use: one claim at a time here, of a task nobody runs.)
/// </summary>
public sealed class ClaimConnectionsTests : PostgresTest
{
    private const int PoolSize = 32;
    private const int OtherConnections = PoolSize - 2;
    private const string ApplicationName = "tasker-claim-connections-test";

    private static readonly WorkClaimOptions Work = new(
        new HashSet<string>(Enumerable.Range(0, 8).Select(i => $"f{i}_handler"), StringComparer.Ordinal), 8, TimeSpan.FromSeconds(30), "w", null, TimeSpan.Zero);

    [PostgresFact]
    public async Task A_work_claim_goes_through_while_every_other_connection_of_the_pool_is_busy()
    {
        var (engine, store) = await EngineWithATaskAsync();
        var release = new TaskCompletionSource();
        var held = await HoldEveryConnectionAsync(store, release.Task);
        try
        {
            var claims = await engine.ClaimWorkAsync(Work).AsTask().WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(8, claims.Count);
        }
        finally
        {
            release.SetResult();
        }
        await Task.WhenAll(held);
    }

    [PostgresFact]
    public async Task The_claim_connections_count_against_the_pool_size()
    {
        var (engine, store) = await EngineWithATaskAsync();
        var release = new TaskCompletionSource();
        var held = await HoldEveryConnectionAsync(store, release.Task);
        try
        {
            Assert.Equal(8, (await engine.ClaimWorkAsync(Work).AsTask().WaitAsync(TimeSpan.FromSeconds(60))).Count);

            Assert.InRange(await ServerConnectionsAsync(), OtherConnections, PoolSize);
        }
        finally
        {
            release.SetResult();
        }
        await Task.WhenAll(held);
    }

    private async Task<(TaskerEngine Engine, PostgresStore Store)> EngineWithATaskAsync()
    {
        var (engine, store) = await EngineAsync(applicationName: ApplicationName, configure: o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString, Schema = o.Schema, ApplicationName = o.ApplicationName, MaxPoolSize = PoolSize,
        });
        await engine.RegisterTemplateAsync(PgWorkflows.Flat);
        await CreateAsync(engine, PgWorkflows.Flat);
        return (engine, store);
    }

    /// <summary>
    /// Asks the store's pool for as many connections as the pool size, each held until <paramref name="release"/>: the
    /// connections the claims do not own are all taken, and the rest of the asks wait for one.
    /// </summary>
    private static async Task<List<Task<int>>> HoldEveryConnectionAsync(PostgresStore store, Task release)
    {
        var held = Enumerable.Range(0, PoolSize)
            .Select(_ => store.Executor.RunAsync("hold", release, static async (_, r, _) =>
            {
                await r;
                return 0;
            }, CancellationToken.None).AsTask())
            .ToList();
        for (var waited = 0; store.Executor.ConnectionsInUse < OtherConnections; waited++)
        {
            Assert.True(waited < 600, "the pool's connections were never taken");
            await Task.Delay(50);
        }
        return held;
    }

    private static async Task<long> ServerConnectionsAsync()
    {
        await using var connection = new NpgsqlConnection(await TestDatabase.ConnectionStringAsync());
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", connection);
        count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ApplicationName });
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
