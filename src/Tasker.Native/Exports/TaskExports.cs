using System.Runtime.InteropServices;
using System.Text.Json;
using Tasker.Core;
using Tasker.Native.Hosting;
using Tasker.Native.Interop;
using Tasker.Native.Wire;

namespace Tasker.Native.Exports;

/// <summary>Task creation, lookup, listing, evaluation and operator actions.</summary>
internal static unsafe class TaskExports
{
    [UnmanagedCallersOnly(EntryPoint = "tasker_task_create")]
    public static nint Create(nint engine, byte* json, nuint length, TaskerBytes* outJson)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_json");
            var host = EngineHost.Get(engine);
            var r = Utf8Input.Json(json, length, "request");
            WireReader.RequireObject(r, "request");
            var request = new TaskRequest
            {
                Name = WireReader.RequiredString(r, "name"),
                Namespace = WireReader.RequiredString(r, "namespace"),
                Version = WireReader.String(r, "version"),
                Context = WireReader.Field(r, "context"),
                Initiator = WireReader.String(r, "initiator"),
                SourceSystem = WireReader.String(r, "source_system"),
                Reason = WireReader.String(r, "reason"),
                Tags = WireReader.Strings(r, "tags"),
                Priority = WireReader.Int(r, "priority") ?? 0,
                IdempotencyKey = WireReader.String(r, "idempotency_key"),
                CorrelationId = WireReader.String(r, "correlation_id"),
            };
            var created = Boundary.Wait(host.Engine.CreateTaskAsync(request));
            WireOutput.Write(outJson, created, WireWriter.Created);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_task_get")]
    public static nint Get(nint engine, byte* uuid, nuint length, TaskerBytes* outJson)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_task_json");
            var host = EngineHost.Get(engine);
            var task = Boundary.Wait(host.Engine.GetTaskAsync(Utf8Input.Uuid(uuid, length, "task_uuid"), includeTransitions: true));
            WireOutput.Write(outJson, task, WireWriter.Task);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_task_list")]
    public static nint List(nint engine, byte* json, nuint length, TaskerBytes* outJson)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_json");
            var host = EngineHost.Get(engine);
            var q = Utf8Input.Json(json, length, "query");
            WireReader.RequireObject(q, "query");
            var query = new TaskQuery(
                WireReader.String(q, "state") is { } state ? StateNames.ParseTaskState(state) : null,
                WireReader.String(q, "namespace"),
                WireReader.String(q, "name"),
                WireReader.Int(q, "limit") ?? 100);
            WireOutput.Write(outJson, Boundary.Wait(host.Engine.ListTasksAsync(query)), WireWriter.Summaries);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_task_evaluate")]
    public static nint Evaluate(nint engine, byte* uuid, nuint length, TaskerBytes* outJson)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_outcome_json");
            var host = EngineHost.Get(engine);
            var outcome = Boundary.Wait(host.Engine.EvaluateAsync(Utf8Input.Uuid(uuid, length, "task_uuid")));
            WireOutput.Write(outJson, outcome, WireWriter.Outcome);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_task_retry")]
    public static nint Retry(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        OperatorAction(engine, json, length, outJson, static (e, task, actor, reason) => e.RetryTaskAsync(task, actor, reason));

    [UnmanagedCallersOnly(EntryPoint = "tasker_task_cancel")]
    public static nint Cancel(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        OperatorAction(engine, json, length, outJson, static (e, task, actor, reason) => e.CancelTaskAsync(task, actor, reason));

    private static nint OperatorAction(nint engine, byte* json, nuint length, TaskerBytes* outJson,
        Func<TaskerEngine, Guid, string?, string?, ValueTask<TaskOutcome>> action)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_outcome_json");
            var host = EngineHost.Get(engine);
            var r = Utf8Input.Json(json, length, "request");
            WireReader.RequireObject(r, "request");
            var outcome = Boundary.Wait(action(host.Engine, WireReader.RequiredUuid(r, "task_uuid"),
                WireReader.String(r, "actor"), WireReader.String(r, "reason")));
            WireOutput.Write(outJson, outcome, WireWriter.Outcome);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tasker_stale_work_list")]
    public static nint StaleWork(nint engine, byte* json, nuint length, TaskerBytes* outJson)
    {
        try
        {
            Boundary.BeginOutput(outJson, "out_json");
            var host = EngineHost.Get(engine);
            var r = Utf8Input.Json(json, length, "request");
            WireReader.RequireObject(r, "request");
            var stale = Boundary.Wait(host.Engine.ListStaleWorkAsync(WireReader.Int(r, "limit") ?? 100));
            WireOutput.Write(outJson, stale, WireWriter.Stale);
            return Boundary.Ok;
        }
        catch (Exception e)
        {
            return Boundary.ToError(e);
        }
    }

}
