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
            Name = WireReader.RequiredString(r, "name"u8),
            Namespace = WireReader.RequiredString(r, "namespace"u8),
            Version = WireReader.String(r, "version"u8),
            Context = WireReader.Kept(r, "context"u8),
            Initiator = WireReader.String(r, "initiator"u8),
            SourceSystem = WireReader.String(r, "source_system"u8),
            Reason = WireReader.String(r, "reason"u8),
            Tags = WireReader.Strings(r, "tags"u8),
            Priority = WireReader.Int(r, "priority"u8) ?? 0,
            IdempotencyKey = WireReader.String(r, "idempotency_key"u8),
            CorrelationId = WireReader.String(r, "correlation_id"u8),
            TraceParent = WireReader.String(r, "traceparent"u8),
            BypassSteps = WireReader.Strings(r, "bypass_steps"u8),
            RequestedAt = WireReader.Time(r, "requested_at"u8),
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
            WireReader.String(q, "state"u8) is { } state ? StateNames.ParseTaskState(state) : null,
            WireReader.String(q, "namespace"u8),
            WireReader.String(q, "name"u8),
            WireReader.Int(q, "limit"u8) ?? 100))), WireWriter.Summaries);

    [UnmanagedCallersOnly(EntryPoint = "tasker_task_retry")]
    public static nint Retry(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_outcome_json", static (host, r) => Boundary.Wait(host.Engine.RetryTaskAsync(
            WireReader.RequiredUuid(r, "task_uuid"u8), WireReader.String(r, "actor"u8), WireReader.String(r, "reason"u8))), WireWriter.Outcome);

    [UnmanagedCallersOnly(EntryPoint = "tasker_task_cancel")]
    public static nint Cancel(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_outcome_json", static (host, r) => Boundary.Wait(host.Engine.CancelTaskAsync(
            WireReader.RequiredUuid(r, "task_uuid"u8), WireReader.String(r, "actor"u8), WireReader.String(r, "reason"u8))), WireWriter.Outcome);

    [UnmanagedCallersOnly(EntryPoint = "tasker_stale_work_list")]
    public static nint StaleWork(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_json",
            static (host, r) => Boundary.Wait(host.Engine.ListStaleWorkAsync(WireReader.Int(r, "limit"u8) ?? 100, Thresholds(r))), WireWriter.Stale);

    /// <summary>The request's stale-work thresholds in seconds; each one missing keeps its default.</summary>
    private static StaleThresholds Thresholds(System.Text.Json.JsonElement r)
    {
        var defaults = StaleThresholds.Default;
        return new StaleThresholds(
            Seconds(WireReader.Number(r, "unclaimed_after_seconds"u8), "unclaimed_after_seconds") ?? defaults.UnclaimedAfter,
            Seconds(WireReader.Number(r, "pending_after_seconds"u8), "pending_after_seconds") ?? defaults.PendingAfter);
    }

    private static TimeSpan? Seconds(double? value, string field) => value switch
    {
        null => null,
        < 0 or > 31_536_000 or double.NaN => throw TaskerException.InvalidArgument($"{field} must be between 0 and 31536000 seconds", field),
        { } s => TimeSpan.FromSeconds(s),
    };

    private static Guid ParseUuid(string text) =>
        Guid.TryParse(text, out var uuid) ? uuid : throw TaskerException.InvalidArgument("task_uuid is not a uuid", "task_uuid");
}
