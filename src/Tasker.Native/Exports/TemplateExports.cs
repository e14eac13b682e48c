using System.Runtime.InteropServices;
using Tasker.Native.Interop;
using Tasker.Native.Wire;

namespace Tasker.Native.Exports;

/// <summary><c>tasker_template_register</c>.</summary>
internal static unsafe class TemplateExports
{
    [UnmanagedCallersOnly(EntryPoint = "tasker_template_register")]
    public static nint Register(nint engine, byte* text, nuint length, TaskerBytes* outJson) =>
        JsonCall.Text(engine, text, length, outJson, "out_template_json", "template",
            static (host, yaml) => Boundary.Wait(host.Engine.RegisterTemplateAsync(yaml)), WireWriter.Template);
}
