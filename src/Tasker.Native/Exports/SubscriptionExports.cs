using System.Runtime.InteropServices;
using Tasker.Native.Hosting;
using Tasker.Native.Interop;
using Tasker.Native.Wire;

namespace Tasker.Native.Exports;

/// <summary>Event subscriptions: open with a pattern, pull batches, free.</summary>
internal static unsafe class SubscriptionExports
{
    [UnmanagedCallersOnly(EntryPoint = "tasker_subscription_open")]
    public static nint Open(nint engine, byte* pattern, nuint length, uint capacity, nint* outSubscription)
    {
        try
        {
            Boundary.RequireOut(outSubscription, "out_subscription");
            *outSubscription = 0;
            var host = EngineHost.Get(engine);
            if (capacity > 10_000_000)
                throw Tasker.Core.TaskerException.InvalidArgument("capacity must be at most 10000000 (0 = the engine default)", "capacity");
            var subscription = host.Engine.Events.Subscribe(Utf8Input.String(pattern, length, "pattern"), (int)capacity);
            *outSubscription = SubscriptionHandles.Handles.Add(subscription);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_subscription_pull")]
    public static nint Pull(nint subscription, uint maxEvents, TaskerBytes* outJson)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_batch_json");
            var s = SubscriptionHandles.Get(subscription);
            var events = s.Pull((int)Math.Min(maxEvents, 100_000u));
            WireOutput.Write(outJson, (events, s.Dropped), WireWriter.Events);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    /// <summary>Ends a subscription; NULL and already-freed handles are ignored (a destructor reports nothing).</summary>
    [UnmanagedCallersOnly(EntryPoint = "tasker_subscription_free")]
    public static void Free(nint subscription)
    {
        try
        {
            if (subscription != 0)
                SubscriptionHandles.Handles.Remove(subscription)?.Dispose();
        }
        catch (Exception)
        {
            // Nothing may unwind into C.
        }
    }
}
