#if TASKER_RELEASE_STARTUP_DATA
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tasker.Native.Hosting;

/// <summary>
/// Gives the runtime's compressed start-up data back to the kernel once the runtime has expanded it: about 2.2 MB of
/// RSS in every host process (NativeSupport/startup_data.c says why that is safe; docs/performance.md, "Footprint").
/// Linux builds only: the C half is linked into the library there.
/// </summary>
internal static partial class StartupData
{
    // NativeAOT runs module initializers at start, after it has expanded the data; nothing else reads it afterwards.
#pragma warning disable CA2255 // A module initializer in a library: the one moment after start and before any export.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Release() => ReleaseStartupData();

    /// <summary>Bytes given back (0 if the image is not laid out as the C code expects; then nothing changes).</summary>
    [LibraryImport(NativeSupport.Library, EntryPoint = "tasker_release_startup_data")]
    private static partial nuint ReleaseStartupData();
}
#endif
