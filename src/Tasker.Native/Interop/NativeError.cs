using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Tasker.Core;

namespace Tasker.Native.Interop;

/// <summary>
/// A <c>tasker_error_t</c>: code, message and details (JSON) in native memory so the getters can return borrowed
/// pointers. Errors live in a handle table too, so a double <c>tasker_error_free</c> is harmless.
/// </summary>
internal sealed unsafe class NativeError
{
    private static readonly HandleTable<NativeError> Table = new(HandleKind.Error);

    private NativeError(TaskerErrorCode code, string message, IReadOnlyDictionary<string, string> details)
    {
        Code = code;
        Message = Utf8Z(message);
        Details = Utf8Z(DetailsJson(details));
    }

    public TaskerErrorCode Code { get; }
    public byte* Message { get; private set; }
    public byte* Details { get; private set; }

    public static nint Create(TaskerErrorCode code, string message, IReadOnlyDictionary<string, string>? details = null) =>
        Table.Add(new NativeError(code, message, details ?? new Dictionary<string, string>()));

    public static bool TryGet(nint handle, out NativeError error) => Table.TryGet(handle, out error);

    public static void Free(nint handle)
    {
        var error = Table.Remove(handle);
        if (error is null) return;
        NativeMemory.Free(error.Message);
        NativeMemory.Free(error.Details);
        error.Message = null;
        error.Details = null;
    }

    private static byte* Utf8Z(string text)
    {
        var count = Encoding.UTF8.GetByteCount(text);
        var data = (byte*)NativeMemory.Alloc((nuint)count + 1);
        Encoding.UTF8.GetBytes(text, new Span<byte>(data, count));
        data[count] = 0;
        return data;
    }

    private static string DetailsJson(IReadOnlyDictionary<string, string> details)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in details)
                writer.WriteString(key, value);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
