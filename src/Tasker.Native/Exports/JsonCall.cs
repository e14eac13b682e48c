using System.Text.Json;
using Tasker.Core.Telemetry;
using Tasker.Native.Hosting;
using Tasker.Native.Interop;
using Tasker.Native.Wire;

namespace Tasker.Native.Exports;

/// <summary>
/// The shape shared by every <c>(engine, data, len, out)</c> export: check the output, find the engine, read the
/// input, run the engine call, write the JSON answer; any exception becomes the returned error (the firewall).
/// Pointers are passed through rather than captured, so the per-export lambdas stay static.
/// </summary>
internal static unsafe class JsonCall
{
    /// <summary>An export whose input is a JSON object request.</summary>
    public static nint Request<T>(nint engine, byte* json, nuint length, TaskerBytes* output, string outputName,
        Func<EngineHost, JsonElement, T> call, Action<Utf8JsonWriter, T> write)
    {
        try
        {
            Boundary.BeginOutput(output, outputName);
            var host = EngineHost.Get(engine);
            var request = Utf8Input.Json(json, length, "request");
            WireReader.RequireObject(request, "request");
            // Any request may carry the host's W3C traceparent: the parent of the spans this call records.
            using var trace = TraceParent.Use(WireReader.String(request, "traceparent"u8));
            WireOutput.Write(output, call(host, request), write);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    /// <summary>An export whose input is UTF-8 text (a uuid, a template).</summary>
    public static nint Text<T>(nint engine, byte* text, nuint length, TaskerBytes* output, string outputName, string inputName,
        Func<EngineHost, string, T> call, Action<Utf8JsonWriter, T> write)
    {
        try
        {
            Boundary.BeginOutput(output, outputName);
            var host = EngineHost.Get(engine);
            WireOutput.Write(output, call(host, Utf8Input.String(text, length, inputName)), write);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }
}
