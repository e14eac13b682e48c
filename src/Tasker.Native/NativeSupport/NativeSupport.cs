namespace Tasker.Native;

/// <summary>The C code linked into libtasker itself (this folder; Tasker.Native.csproj compiles it).</summary>
internal static class NativeSupport
{
    /// <summary>The name its imports use; the build binds them at link time (DirectPInvoke), never through dlopen.</summary>
    public const string Library = "tasker_native_support";
}
