using System.Buffers;
using System.Text.Json;
using Tasker.Native.Interop;

namespace Tasker.Native.Wire;

/// <summary>
/// Writes one JSON document and hands it to C as a <c>tasker_bytes_t</c>. The buffer and the writer are reused per
/// thread (an export never calls another one), so a call allocates nothing here but the C copy.
/// </summary>
internal static unsafe class WireOutput
{
    private static readonly JsonWriterOptions Options = new()
    {
        SkipValidation = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    public static void Write<T>(TaskerBytes* destination, T value, Action<Utf8JsonWriter, T> write)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var writer = t_writer;
        if (writer is null) t_writer = writer = new Utf8JsonWriter(buffer, Options);
        else writer.Reset(buffer);
        write(writer, value);
        writer.Flush();
        TaskerBytes.Write(destination, buffer.WrittenSpan);
        if (buffer.Capacity > 1 << 20)
        {
            // Don't keep a huge buffer alive per thread.
            t_buffer = null;
            t_writer = null;
        }
    }
}
