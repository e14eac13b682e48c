using System.Runtime.InteropServices;
using Tasker.Native.Hosting;
using Tasker.Native.Interop;
using Tasker.Native.Wire;

namespace Tasker.Native.Exports;

/// <summary><c>tasker_template_register</c>.</summary>
internal static unsafe class TemplateExports
{
    [UnmanagedCallersOnly(EntryPoint = "tasker_template_register")]
    public static nint Register(nint engine, byte* text, nuint length, TaskerBytes* outJson)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_template_json");
            var host = EngineHost.Get(engine);
            var template = Boundary.Wait(host.Engine.RegisterTemplateAsync(Utf8Input.String(text, length, "template")));
            WireOutput.Write(outJson, template, WireWriter.Template);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }
}
