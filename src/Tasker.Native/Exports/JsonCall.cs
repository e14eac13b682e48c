using System.Buffers;
using System.Text.Json;
using Tasker.Core;
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
            var input = Utf8Input.Span(json, length, "request");
            if (input.IsEmpty)
                return Run(host, JsonValues.EmptyObject, output, call, write);
            // The request is parsed into pooled memory and released when the call returns: an export that keeps
            // part of it (a context, a result) keeps a copy (WireReader.Kept).
            var copy = ArrayPool<byte>.Shared.Rent(input.Length);
            try
            {
                input.CopyTo(copy);
                using var document = JsonValues.ParseDocument(copy.AsMemory(0, input.Length), "request");
                return Run(host, document.RootElement, output, call, write);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    private static nint Run<T>(EngineHost host, JsonElement request, TaskerBytes* output,
        Func<EngineHost, JsonElement, T> call, Action<Utf8JsonWriter, T> write)
    {
        WireReader.RequireObject(request, "request");
        // Any request may carry the host's W3C traceparent: the parent of the spans this call records.
        using var trace = TraceParent.Use(WireReader.String(request, "traceparent"u8));
        WireOutput.Write(output, call(host, request), write);
        return Boundary.Ok;
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
