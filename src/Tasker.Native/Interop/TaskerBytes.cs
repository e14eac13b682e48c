using System.Runtime.InteropServices;

namespace Tasker.Native.Interop;

/// <summary><c>tasker_bytes_t</c>: an owned, NUL-terminated UTF-8 buffer handed to the caller.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct TaskerBytes
{
    public byte* Data;
    public nuint Length;

    /// <summary>Copies <paramref name="utf8"/> into native memory the caller frees with <c>tasker_bytes_free</c>.</summary>
    public static void Write(TaskerBytes* destination, ReadOnlySpan<byte> utf8)
    {
        var data = (byte*)NativeMemory.Alloc((nuint)utf8.Length + 1);
        utf8.CopyTo(new Span<byte>(data, utf8.Length));
        data[utf8.Length] = 0;
        destination->Data = data;
        destination->Length = (nuint)utf8.Length;
    }

    public static void Free(TaskerBytes* bytes)
    {
        if (bytes == null || bytes->Data == null) return;
        NativeMemory.Free(bytes->Data);
        bytes->Data = null;
        bytes->Length = 0;
    }
}
