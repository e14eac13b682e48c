using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tasker.Native.Exports;

/// <summary><c>tasker_version</c>, <c>tasker_abi_version</c>.</summary>
internal static unsafe class VersionExports
{
    /// <summary>Bumped on any incompatible change to a signature, a struct or a JSON shape. Must equal TASKER_ABI_VERSION.</summary>
    public const uint AbiVersion = 2;

    [UnmanagedCallersOnly(EntryPoint = "tasker_version")]
    public static byte* Version() =>
        // A u8 literal lives in the image's read-only data: the pointer is valid for the life of the process. The
        // literal is generated from VERSION (BuildInfo.g.cs).
        (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(BuildInfo.VersionUtf8Z));

    [UnmanagedCallersOnly(EntryPoint = "tasker_abi_version")]
    public static uint Abi() => AbiVersion;
}
