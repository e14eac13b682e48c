using System.Runtime.InteropServices;
using Tasker.Core;
using Tasker.Native.Hosting;
using Tasker.Native.Interop;
using Tasker.Native.Wire;

namespace Tasker.Native.Exports;

/// <summary>The step lifecycle: claim, heartbeat, complete, fail, resolve.</summary>
internal static unsafe class StepExports
{
    [UnmanagedCallersOnly(EntryPoint = "tasker_steps_claim")]
    public static nint Claim(nint engine, byte* json, nuint length, TaskerBytes* outJson)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_json");
            var host = EngineHost.Get(engine);
            var r = Utf8Input.Json(json, length, "request");
            WireReader.RequireObject(r, "request");
            var options = new ClaimOptions(WireReader.Int(r, "max_steps") ?? 16, WireReader.Seconds(r, "lease_seconds"), WireReader.String(r, "worker_id"));
            var result = Boundary.Wait(host.Engine.ClaimStepsAsync(WireReader.RequiredUuid(r, "task_uuid"), options));
            WireOutput.Write(outJson, result, WireWriter.Claims);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_step_heartbeat")]
    public static nint Heartbeat(nint engine, byte* json, nuint length, TaskerBytes* outJson)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_json");
            var host = EngineHost.Get(engine);
            var r = Utf8Input.Json(json, length, "request");
            WireReader.RequireObject(r, "request");
            var expires = Boundary.Wait(host.Engine.HeartbeatAsync(WireReader.RequiredUuid(r, "task_uuid"), WireReader.RequiredUuid(r, "step_uuid"),
                WireReader.RequiredString(r, "claim_token"), WireReader.Seconds(r, "lease_seconds")));
            WireOutput.Write(outJson, expires, WireWriter.Lease);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_step_complete")]
    public static nint Complete(nint engine, byte* json, nuint length, TaskerBytes* outJson)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_outcome_json");
            var host = EngineHost.Get(engine);
            var r = Utf8Input.Json(json, length, "request");
            WireReader.RequireObject(r, "request");
            var result = r.TryGetProperty("result", out var value) ? value : JsonValues.Null;
            var outcome = Boundary.Wait(host.Engine.CompleteStepAsync(WireReader.RequiredUuid(r, "task_uuid"), WireReader.RequiredUuid(r, "step_uuid"),
                WireReader.RequiredString(r, "claim_token"), result, WireReader.Field(r, "metadata")));
            WireOutput.Write(outJson, outcome, WireWriter.Outcome);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_step_fail")]
    public static nint Fail(nint engine, byte* json, nuint length, TaskerBytes* outJson)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_outcome_json");
            var host = EngineHost.Get(engine);
            var r = Utf8Input.Json(json, length, "request");
            WireReader.RequireObject(r, "request");
            var error = WireReader.Field(r, "error") ?? throw TaskerException.InvalidArgument("error is required", "error");
            WireReader.RequireObject(error, "error");
            var failure = new StepFailure(
                WireReader.String(error, "message") ?? "step failed",
                WireReader.String(error, "error_type"),
                WireReader.Bool(error, "permanent") ?? false,
                WireReader.Number(error, "retry_after_seconds"),
                WireReader.Field(error, "backtrace") is { ValueKind: System.Text.Json.JsonValueKind.String } single
                    ? single.GetString()!.Split('\n')
                    : WireReader.Strings(error, "backtrace"));
            var outcome = Boundary.Wait(host.Engine.FailStepAsync(WireReader.RequiredUuid(r, "task_uuid"), WireReader.RequiredUuid(r, "step_uuid"),
                WireReader.RequiredString(r, "claim_token"), failure));
            WireOutput.Write(outJson, outcome, WireWriter.Outcome);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_step_resolve")]
    public static nint Resolve(nint engine, byte* json, nuint length, TaskerBytes* outJson)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_outcome_json");
            var host = EngineHost.Get(engine);
            var r = Utf8Input.Json(json, length, "request");
            WireReader.RequireObject(r, "request");
            var step = WireReader.String(r, "step_uuid") ?? WireReader.String(r, "step_name")
                ?? throw TaskerException.InvalidArgument("step_uuid or step_name is required", "step_uuid");
            var outcome = Boundary.Wait(host.Engine.ResolveStepAsync(WireReader.RequiredUuid(r, "task_uuid"), step,
                WireReader.Field(r, "result"), WireReader.String(r, "actor"), WireReader.String(r, "reason")));
            WireOutput.Write(outJson, outcome, WireWriter.Outcome);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }
}
