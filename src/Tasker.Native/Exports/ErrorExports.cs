using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tasker.Core;
using Tasker.Native.Interop;

namespace Tasker.Native.Exports;

/// <summary>
/// Error objects and owned byte buffers. These functions cannot report an error of their own, so each answers a
/// bad argument with a harmless default (INVALID_HANDLE, "", "{}", nothing) and still never lets an exception
/// unwind into C.
/// </summary>
internal static unsafe class ErrorExports
{
    [UnmanagedCallersOnly(EntryPoint = "tasker_error_code")]
    public static int Code(nint error)
    {
        try
        {
            return NativeError.TryGet(error, out var e) ? (int)e.Code : (int)TaskerErrorCode.InvalidHandle;
        }
        catch (Exception)
        {
            return (int)TaskerErrorCode.InvalidHandle;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_error_message")]
    public static byte* Message(nint error)
    {
        try
        {
            return NativeError.TryGet(error, out var e) ? e.Message : Empty();
        }
        catch (Exception)
        {
            return Empty();
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_error_details")]
    public static byte* Details(nint error)
    {
        try
        {
            return NativeError.TryGet(error, out var e) ? e.Details : EmptyObject();
        }
        catch (Exception)
        {
            return EmptyObject();
        }
    }

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

    // tasker_bytes_t is a plain struct, not a handle: a data pointer tasker did not allocate is the caller's bug and
    // cannot be detected here. Zeroing the struct is what makes a second free of the same struct harmless.
    [UnmanagedCallersOnly(EntryPoint = "tasker_bytes_free")]
    public static void BytesFree(TaskerBytes* bytes) => TaskerBytes.Free(bytes);

    // u8 literals live in the image's read-only data: the pointers stay valid for the life of the process.
    private static byte* Empty() => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("\0"u8));

    private static byte* EmptyObject() => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("{}\0"u8));
}
