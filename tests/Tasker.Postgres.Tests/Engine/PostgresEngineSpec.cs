using Tasker.Core;
using Tasker.Core.Storage;
using Tasker.Core.Tests.Engine;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Engine;

/// <summary>
/// The engine specification (tests/Tasker.Core.Tests/Engine/EngineSpec.cs), unchanged, on PostgreSQL: every behaviour
/// the memory store passes, this store passes too. Each test gets a fresh schema. Without a database these fail
/// with the reason (xUnit 2 cannot skip inherited facts); see TestDatabase.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresEngineSpec : EngineSpec
{
    protected override async Task<IStore> CreateStoreAsync(TaskerOptions options) =>
        new PostgresStore(await TestSchemas.NewStoreOptionsAsync());
}

/// <summary>
/// The same specification with the per-process task cache off: every change loads the task first (the path a
/// process takes for tasks it has not touched recently, and after losing a race).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresEngineSpecWithoutTaskCache : EngineSpec
{
    protected override async Task<IStore> CreateStoreAsync(TaskerOptions options)
    {
        var defaults = await TestSchemas.NewStoreOptionsAsync();
        return new PostgresStore(new PostgresStoreOptions { ConnectionString = defaults.ConnectionString, Schema = defaults.Schema, TaskCacheSize = 0 });
    }
}
