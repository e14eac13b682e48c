using System.Runtime.CompilerServices;
using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

public sealed class DisposeTests : PostgresTest
{
    [PostgresFact]
    public async Task Disposing_a_store_its_engine_already_disposed_does_nothing()
    {
        var store = await PostgresStore.OpenAsync(await TestSchemas.NewStoreOptionsAsync(Schema));
        var engine = new TaskerEngine(store);
        // A waiting work claim starts the store's listener, which disposing stops.
        var handlers = new HashSet<string>(StringComparer.Ordinal) { "nobody" };
        Assert.Empty(await engine.ClaimWorkAsync(new WorkClaimOptions(handlers, 1, null, "w", null, TimeSpan.FromMilliseconds(20))));

        await engine.DisposeAsync();
        await store.DisposeAsync();
        await store.DisposeAsync();
    }

    [PostgresFact]
    public async Task A_store_dropped_without_being_disposed_is_not_kept_alive_by_its_retention_timer()
    {
        Assert.True(await GarbageCollection.IsCollectedAsync(await OpenAndDropAsync()));
    }

    /// <summary>Opens a store that has used a connection and sweeps on a timer, and keeps no reference but a weak one.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task<WeakReference<PostgresStore>> OpenAndDropAsync()
    {
        var o = await TestSchemas.NewStoreOptionsAsync(Schema);
        var store = await PostgresStore.OpenAsync(new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString, Schema = o.Schema, FinishedTaskRetention = TimeSpan.FromDays(1), RetentionInterval = TimeSpan.FromHours(1),
        });
        await store.ListTasksAsync(new TaskQuery(), CancellationToken.None);
        return new WeakReference<PostgresStore>(store);
    }
}
