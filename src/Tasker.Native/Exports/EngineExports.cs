using System.Runtime.InteropServices;
using Tasker.Core;
using Tasker.Native.Hosting;
using Tasker.Native.Interop;
using Tasker.Native.Wire;

namespace Tasker.Native.Exports;

/// <summary>Engine lifetime, migrations, the manual clock and health.</summary>
internal static unsafe class EngineExports
{
    /// <summary>The largest step of <c>tasker_engine_advance_clock</c>: 100 years (documented in tasker.h).</summary>
    public const long MaxAdvanceMilliseconds = 100L * 365 * 24 * 3600 * 1000;

    [UnmanagedCallersOnly(EntryPoint = "tasker_engine_open")]
    public static nint Open(byte* config, nuint length, nint* outEngine)
    {
        try
        {
            Boundary.RequireOut(outEngine, "out_engine");
            *outEngine = 0;
            var parsed = EngineConfig.Parse(Utf8Input.Json(config, length, "config"));
            TelemetrySetup.Ensure(parsed.TelemetryExporter);
            var engine = new TaskerEngine(parsed.OpenStore(), parsed.Options);
            parsed.Loggers.Bus = engine.Events;
            *outEngine = EngineHost.Handles.Add(new EngineHost(engine, parsed.Options.Time as ManualClock));
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    /// <summary>
    /// Shuts an engine down and releases its handle, reporting what went wrong on the way out (a store that fails to
    /// close, telemetry that fails to flush). The handle is released even then.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "tasker_engine_close")]
    public static nint Close(nint engine)
    {
        try
        {
            if (engine == 0) return Boundary.Ok;
            Shutdown(EngineHost.Handles.Remove(engine) ?? throw HandleTable<EngineHost>.InvalidHandle(engine, "engine"));
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    /// <summary>Releases an engine like <c>tasker_engine_close</c>, ignoring failures and stale handles (a destructor).</summary>
    [UnmanagedCallersOnly(EntryPoint = "tasker_engine_free")]
    public static void Free(nint engine)
    {
        try
        {
            if (engine != 0 && EngineHost.Handles.Remove(engine) is { } host)
                Shutdown(host);
        }
        catch (Exception)
        {
            // Nothing may unwind into C, and a destructor has nowhere to report: tasker_engine_close is the call that does.
        }
    }

    private static void Shutdown(EngineHost host)
    {
        Boundary.Wait(host.Engine.DisposeAsync());
        TelemetrySetup.Flush();
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_engine_migrate")]
    public static nint Migrate(nint engine)
    {
        try
        {
            Boundary.Wait(EngineHost.Get(engine).Engine.MigrateAsync());
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_engine_advance_clock")]
    public static nint AdvanceClock(nint engine, long milliseconds)
    {
        try
        {
            var clock = EngineHost.Get(engine).Clock
                ?? throw new TaskerException(TaskerErrorCode.InvalidState, "the engine was not opened with \"clock\": \"manual\"");
            // Bounded so the clock can never run past DateTimeOffset.MaxValue and break every later call.
            if (milliseconds is < 0 or > MaxAdvanceMilliseconds)
                throw TaskerException.InvalidArgument($"milliseconds must be between 0 and {MaxAdvanceMilliseconds} (about 100 years)", "milliseconds");
            clock.Advance(TimeSpan.FromMilliseconds(milliseconds));
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_engine_health")]
    public static nint Health(nint engine, TaskerBytes* outJson)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_json");
            var health = Boundary.Wait(EngineHost.Get(engine).Engine.GetHealthAsync());
            WireOutput.Write(outJson, health, WireWriter.Health);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }
}
