using Tasker.Core.Storage;
using Tasker.Core.Storage.Memory;

namespace Tasker.Core.Tests.Engine;

/// <summary>The engine specification on the embedded memory store.</summary>
public sealed class MemoryEngineSpec : EngineSpec
{
    protected override Task<IStore> CreateStoreAsync(TaskerOptions options) =>
        Task.FromResult<IStore>(new MemoryStore(options.MaxFinishedTasks));
}
