using Tasker.Core;
using Tasker.Core.Events;
using Tasker.Native.Interop;

namespace Tasker.Native.Hosting;

/// <summary>What a <c>tasker_engine_t</c> handle names: the engine and its clock.</summary>
internal sealed class EngineHost(TaskerEngine engine, ManualClock? clock)
{
    public static readonly HandleTable<EngineHost> Handles = new(HandleKind.Engine);

    public TaskerEngine Engine { get; } = engine;

    /// <summary>Set only for engines opened with <c>"clock": "manual"</c>.</summary>
    public ManualClock? Clock { get; } = clock;

    public static EngineHost Get(nint handle) => Handles.Get(handle, "engine");
}

/// <summary>What a <c>tasker_subscription_t</c> handle names.</summary>
internal static class SubscriptionHandles
{
    public static readonly HandleTable<Subscription> Handles = new(HandleKind.Subscription);

    public static Subscription Get(nint handle) => Handles.Get(handle, "subscription");
}
