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
}
