using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tasker.Core;
using Tasker.Native.Interop;

namespace Tasker.Native.Exports;

/// <summary>Error objects and owned byte buffers.</summary>
internal static unsafe class ErrorExports
{
    [UnmanagedCallersOnly(EntryPoint = "tasker_error_code")]
    public static int Code(nint error) =>
        NativeError.TryGet(error, out var e) ? (int)e.Code : (int)TaskerErrorCode.InvalidHandle;

    [UnmanagedCallersOnly(EntryPoint = "tasker_error_message")]
    public static byte* Message(nint error) =>
        NativeError.TryGet(error, out var e) ? e.Message : Empty();

    [UnmanagedCallersOnly(EntryPoint = "tasker_error_details")]
    public static byte* Details(nint error) =>
        NativeError.TryGet(error, out var e) ? e.Details : EmptyObject();

    [UnmanagedCallersOnly(EntryPoint = "tasker_error_free")]
    public static void Free(nint error)
    {
        try
        {
            NativeError.Free(error);
        }
        catch (Exception)
        {
            // Nothing may unwind into C; a failure to free an error has nowhere to be reported.
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_bytes_free")]
    public static void BytesFree(TaskerBytes* bytes) => TaskerBytes.Free(bytes);

    private static byte* Empty() => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("\0"u8));

    private static byte* EmptyObject() => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("{}\0"u8));
}
