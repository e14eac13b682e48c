using System.Runtime.CompilerServices;

namespace Tasker.Core.Schema;

/// <summary>
/// Starts JsonSchema.Net when a template first needs a schema, instead of when the process starts.
/// JsonSchema.Net registers its dialects and builds its 19 meta-schemas in a module initializer. The JIT runs a module
/// initializer when the module is first used; NativeAOT runs every module initializer when the runtime starts, so
/// every process that loaded libtasker paid for it (about 2.5 MB of heap and 1 MB of pages of code and metadata, most
/// hosts never use a schema). libtasker's build stubs that initializer out (src/Tasker.Native/JsonSchemaNet.Substitutions.xml)
/// and <see cref="InputSchemaValidator"/> calls it here, before its first use of the library. The initializer runs once
/// (it sets a flag first); under the JIT it has already run and this returns at once.
/// </summary>
internal static class JsonSchemaLibrary
{
    /// <summary>Runs JsonSchema.Net's module initializer if it has not run. Not thread-safe by itself (the
    /// initializer's flag is set before its work is done): call it from a static constructor, which runs once and
    /// makes other threads wait.</summary>
    public static bool Start()
    {
        Initialize(null);
        return true;
    }

    [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "Initialize")]
    private static extern void Initialize([UnsafeAccessorType("Json.Schema.__ModuleInitialization, JsonSchema.Net")] object? owner);
}
