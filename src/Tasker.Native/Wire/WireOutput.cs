using System.Buffers;
using System.Text.Json;
using Tasker.Native.Interop;

namespace Tasker.Native.Wire;

/// <summary>Writes one JSON document and hands it to C as a <c>tasker_bytes_t</c>.</summary>
internal static unsafe class WireOutput
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;

    public static void Write(TaskerBytes* destination, Action<Utf8JsonWriter> write)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(writer);
        TaskerBytes.Write(destination, buffer.WrittenSpan);
        if (buffer.Capacity > 1 << 20) t_buffer = null; // don't keep huge buffers alive per thread
    }

    public static void Write<T>(TaskerBytes* destination, T value, Action<Utf8JsonWriter, T> write)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(writer, value);
        TaskerBytes.Write(destination, buffer.WrittenSpan);
        if (buffer.Capacity > 1 << 20) t_buffer = null;
    }
}
