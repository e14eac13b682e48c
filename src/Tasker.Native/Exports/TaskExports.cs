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
    public static nint Create(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_json", static (host, r) => Boundary.Wait(host.Engine.CreateTaskAsync(new TaskRequest
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
            TraceParent = WireReader.String(r, "traceparent"),
        })), WireWriter.Created);

    [UnmanagedCallersOnly(EntryPoint = "tasker_task_get")]
    public static nint Get(nint engine, byte* uuid, nuint length, TaskerBytes* outJson) =>
        JsonCall.Text(engine, uuid, length, outJson, "out_task_json", "task_uuid",
            static (host, text) => Boundary.Wait(host.Engine.GetTaskAsync(ParseUuid(text), includeTransitions: true)), WireWriter.Task);

    [UnmanagedCallersOnly(EntryPoint = "tasker_task_evaluate")]
    public static nint Evaluate(nint engine, byte* uuid, nuint length, TaskerBytes* outJson) =>
        JsonCall.Text(engine, uuid, length, outJson, "out_outcome_json", "task_uuid",
            static (host, text) => Boundary.Wait(host.Engine.EvaluateAsync(ParseUuid(text))), WireWriter.Outcome);

    [UnmanagedCallersOnly(EntryPoint = "tasker_task_list")]
    public static nint List(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_json", static (host, q) => Boundary.Wait(host.Engine.ListTasksAsync(new TaskQuery(
            WireReader.String(q, "state") is { } state ? StateNames.ParseTaskState(state) : null,
            WireReader.String(q, "namespace"),
            WireReader.String(q, "name"),
            WireReader.Int(q, "limit") ?? 100))), WireWriter.Summaries);

    [UnmanagedCallersOnly(EntryPoint = "tasker_task_retry")]
    public static nint Retry(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_outcome_json", static (host, r) => Boundary.Wait(host.Engine.RetryTaskAsync(
            WireReader.RequiredUuid(r, "task_uuid"), WireReader.String(r, "actor"), WireReader.String(r, "reason"))), WireWriter.Outcome);

    [UnmanagedCallersOnly(EntryPoint = "tasker_task_cancel")]
    public static nint Cancel(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_outcome_json", static (host, r) => Boundary.Wait(host.Engine.CancelTaskAsync(
            WireReader.RequiredUuid(r, "task_uuid"), WireReader.String(r, "actor"), WireReader.String(r, "reason"))), WireWriter.Outcome);

    [UnmanagedCallersOnly(EntryPoint = "tasker_stale_work_list")]
    public static nint StaleWork(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_json",
            static (host, r) => Boundary.Wait(host.Engine.ListStaleWorkAsync(WireReader.Int(r, "limit") ?? 100)), WireWriter.Stale);

    private static Guid ParseUuid(string text) =>
        Guid.TryParse(text, out var uuid) ? uuid : throw TaskerException.InvalidArgument("task_uuid is not a uuid", "task_uuid");
}
