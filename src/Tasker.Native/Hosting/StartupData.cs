#if TASKER_RELEASE_STARTUP_DATA
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tasker.Native.Hosting;

/// <summary>
/// Gives the runtime's compressed start-up data back to the kernel once the runtime has expanded it: about 2.2 MB
/// less RSS in each host process (NativeSupport/startup_data.c says why that is safe; docs/performance.md,
/// "Footprint"). Linux builds only: the C half is linked into the library there.
/// </summary>
internal static partial class StartupData
{
    /// <summary>
    /// The C code linked into libtasker itself. Tasker.Native.csproj lists the same name as a DirectPInvoke, so the
    /// import is bound at link time; under any other name it would be looked up with dlopen at start, and fail.
    /// </summary>
    private const string NativeSupport = "tasker_native_support";

    // NativeAOT runs module initializers at start, after it has expanded the data; nothing reads it afterwards.
#pragma warning disable CA2255 // A module initializer in a library: the one moment after start and before any export.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Release()
    {
        // Only the ahead-of-time compiled library has the C half (nothing loads this assembly under the JIT today).
        if (RuntimeFeature.IsDynamicCodeSupported) return;
        ReleaseStartupData();
    }

    // Not named tasker_*: that prefix is the C ABI's (scripts/abi-parity.sh checks every tasker_ import against the header).
    [LibraryImport(NativeSupport, EntryPoint = "native_support_release_startup_data")]
    private static partial void ReleaseStartupData();
}
#endif
