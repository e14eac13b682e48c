using System.Runtime.InteropServices;
using System.Text.Json;
using Tasker.Core;
using Tasker.Native.Interop;
using Tasker.Native.Wire;

namespace Tasker.Native.Exports;

/// <summary>The step lifecycle: claim, heartbeat, complete, fail, resolve.</summary>
internal static unsafe class StepExports
{
    [UnmanagedCallersOnly(EntryPoint = "tasker_steps_claim")]
    public static nint Claim(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_json", static (host, r) =>
        {
            var lean = Lean(r); // read before anything is applied: a malformed request changes nothing
            return new ClaimAnswer<ClaimResult>(
                Boundary.Wait(host.Engine.ClaimStepsAsync(WireReader.RequiredUuid(r, "task_uuid"u8), ReadClaim(r, "request"))), lean);
        }, WireWriter.Claims);

    /// <summary>Worker mode: ready steps of the caller's handlers across all tasks, waiting up to wait_seconds.</summary>
    [UnmanagedCallersOnly(EntryPoint = "tasker_work_claim")]
    public static nint ClaimWork(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_json", static (host, r) =>
        {
            var claim = ReadClaim(r, "request");
            var handlers = claim.Handlers ?? throw TaskerException.InvalidArgument("handlers is required: the handlers this worker runs", "handlers");
            var namespaces = WireReader.Field(r, "namespaces"u8) is null ? null : WireReader.Strings(r, "namespaces"u8).ToHashSet(StringComparer.Ordinal);
            var wait = WireReader.Number(r, "wait_seconds"u8) is { } seconds
                ? seconds is >= 0 and <= 60 ? TimeSpan.FromSeconds(seconds) : throw TaskerException.InvalidArgument("wait_seconds must be between 0 and 60", "wait_seconds")
                : (TimeSpan?)null;
            return Boundary.Wait(host.Engine.ClaimWorkAsync(new WorkClaimOptions(handlers, claim.MaxSteps, claim.Lease, claim.WorkerId, namespaces, wait)));
        }, WireWriter.WorkClaims);

    [UnmanagedCallersOnly(EntryPoint = "tasker_step_heartbeat")]
    public static nint Heartbeat(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_json", static (host, r) => Boundary.Wait(host.Engine.HeartbeatAsync(
            WireReader.RequiredUuid(r, "task_uuid"u8), WireReader.RequiredUuid(r, "step_uuid"u8), WireReader.RequiredString(r, "claim_token"u8),
            WireReader.Seconds(r, "lease_seconds"u8))), WireWriter.Lease);

    [UnmanagedCallersOnly(EntryPoint = "tasker_step_complete")]
    public static nint Complete(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_json", static (host, r) =>
        {
            var lean = LeanNext(r);
            return new ClaimAnswer<ClaimResult>(Boundary.Wait(host.Engine.CompleteAndClaimAsync(WireReader.RequiredUuid(r, "task_uuid"u8),
                WireReader.RequiredUuid(r, "step_uuid"u8), WireReader.RequiredString(r, "claim_token"u8), WireReader.Kept(r, "result"u8) ?? JsonValues.Null,
                WireReader.Kept(r, "metadata"u8), ReadHandler(r), ReadClaimNext(r))), lean);
        }, WireWriter.Claims);

    [UnmanagedCallersOnly(EntryPoint = "tasker_step_fail")]
    public static nint Fail(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_json", static (host, r) =>
        {
            var lean = LeanNext(r);
            return new ClaimAnswer<ClaimResult>(Boundary.Wait(host.Engine.FailAndClaimAsync(WireReader.RequiredUuid(r, "task_uuid"u8),
                WireReader.RequiredUuid(r, "step_uuid"u8), WireReader.RequiredString(r, "claim_token"u8), ReadFailure(r), ReadHandler(r),
                ReadClaimNext(r))), lean);
        }, WireWriter.Claims);

    [UnmanagedCallersOnly(EntryPoint = "tasker_steps_report")]
    public static nint Report(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_json", static (host, r) =>
        {
            var lean = LeanNext(r);
            return new ClaimAnswer<ReportsResult>(Boundary.Wait(ReportBatch.ApplyAsync(host.Engine, r)), lean);
        }, WireWriter.Reports);

    [UnmanagedCallersOnly(EntryPoint = "tasker_step_resolve")]
    public static nint Resolve(nint engine, byte* json, nuint length, TaskerBytes* outJson) =>
        JsonCall.Request(engine, json, length, outJson, "out_outcome_json", static (host, r) => Boundary.Wait(host.Engine.ResolveStepAsync(
            WireReader.RequiredUuid(r, "task_uuid"u8),
            WireReader.String(r, "step_uuid"u8) ?? WireReader.String(r, "step_name"u8)
                ?? throw TaskerException.InvalidArgument("step_uuid or step_name is required", "step_uuid"),
            WireReader.Kept(r, "result"u8), WireReader.String(r, "actor"u8), WireReader.String(r, "reason"u8))), WireWriter.Outcome);

    /// <summary>
    /// What to claim: {"max_steps": 16, "lease_seconds", "worker_id", "handlers": ["name", ...]}. Without "handlers"
    /// (or null) the caller runs every handler; with a list, only steps naming one of them are claimed.
    /// </summary>
    private static ClaimOptions ReadClaim(JsonElement r, string where)
    {
        IReadOnlySet<string>? handlers = null;
        if (WireReader.Field(r, "handlers"u8) is { } list)
        {
            if (list.ValueKind != JsonValueKind.Array)
                throw TaskerException.InvalidArgument($"{where}: handlers must be a list of handler names", "handlers");
            var set = new HashSet<string>(list.GetArrayLength(), StringComparer.Ordinal);
            foreach (var item in list.EnumerateArray())
                set.Add(item.ValueKind == JsonValueKind.String
                    ? item.GetString()!
                    : throw TaskerException.InvalidArgument($"{where}: handlers must be a list of handler names", "handlers"));
            handlers = set;
        }
        return new ClaimOptions(WireReader.Int(r, "max_steps"u8) ?? 16, WireReader.Seconds(r, "lease_seconds"u8), WireReader.String(r, "worker_id"u8), handlers);
    }

    /// <summary>
    /// Whether a claim request asks for a lean answer (<see cref="ClaimAnswer{T}"/>): <c>"lean": true</c>. Read before the
    /// call is applied, as every other field is: a request refused for it changes nothing.
    /// </summary>
    private static bool Lean(JsonElement claim) => WireReader.Bool(claim, "lean"u8) ?? false;

    /// <summary>Whether a report's <c>claim_next</c> asks for a lean answer; without <c>claim_next</c>, nothing is claimed.</summary>
    private static bool LeanNext(JsonElement request) => WireReader.Field(request, "claim_next"u8) is { ValueKind: JsonValueKind.Object } next && Lean(next);

    /// <summary>The optional <c>claim_next</c> object of a complete or fail request: a claim of the same task.</summary>
    internal static ClaimOptions? ReadClaimNext(JsonElement request)
    {
        if (WireReader.Field(request, "claim_next"u8) is not { } next) return null;
        WireReader.RequireObject(next, "claim_next");
        return ReadClaim(next, "claim_next");
    }

    /// <summary>
    /// The optional <c>handler</c> object of a complete or fail request: {"started_at", "finished_at" (RFC 3339 or Unix seconds),
    /// "attributes": {name: string | number | boolean}}, what the binding measured around the handler.
    /// </summary>
    internal static HandlerRun? ReadHandler(JsonElement request)
    {
        if (WireReader.Field(request, "handler"u8) is not { } handler) return null;
        WireReader.RequireObject(handler, "handler");
        var attributes = new List<KeyValuePair<string, object>>();
        if (WireReader.Field(handler, "attributes"u8) is { } map)
        {
            WireReader.RequireObject(map, "handler.attributes");
            foreach (var a in map.EnumerateObject())
            {
                object value = a.Value.ValueKind switch
                {
                    JsonValueKind.String => a.Value.GetString()!,
                    JsonValueKind.True or JsonValueKind.False => a.Value.GetBoolean(),
                    JsonValueKind.Number when a.Value.TryGetInt64(out var whole) => whole,
                    JsonValueKind.Number => a.Value.GetDouble(),
                    _ => throw TaskerException.InvalidArgument($"handler attribute '{a.Name}' must be a string, number or boolean", "handler"),
                };
                attributes.Add(new(a.Name, value));
            }
        }
        return new HandlerRun(Timestamp(handler, "started_at"u8), Timestamp(handler, "finished_at"u8), attributes);
    }

    /// <summary>A handler run's time: RFC 3339 text, or a number of seconds since the Unix epoch (what a binding's clock
    /// gives without formatting: a third of a Python step's own cost was two isoformat calls).</summary>
    private static DateTimeOffset Timestamp(JsonElement obj, ReadOnlySpan<byte> name)
    {
        if (WireReader.Field(obj, name) is { ValueKind: JsonValueKind.Number } seconds)
            return seconds.TryGetDouble(out var unix) && unix is >= 0 and < MaxUnixSeconds
                ? DateTimeOffset.UnixEpoch.AddTicks((long)(unix * TimeSpan.TicksPerSecond))
                : throw NotATime(name);
        return DateTimeOffset.TryParse(WireReader.RequiredString(obj, name), System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw NotATime(name);
    }

    private static TaskerException NotATime(ReadOnlySpan<byte> name) =>
        TaskerException.InvalidArgument($"handler.{System.Text.Encoding.UTF8.GetString(name)} must be an RFC 3339 timestamp or Unix seconds", "handler");

    private const double MaxUnixSeconds = 253402300800; // 10000-01-01: past it DateTimeOffset overflows

    /// <summary>The <c>error</c> object of a fail request; a backtrace may be a list of frames or one string.</summary>
    internal static StepFailure ReadFailure(JsonElement request)
    {
        var error = WireReader.Field(request, "error"u8) ?? throw TaskerException.InvalidArgument("error is required", "error");
        WireReader.RequireObject(error, "error");
        var backtrace = WireReader.Field(error, "backtrace"u8) is { ValueKind: JsonValueKind.String } single
            ? single.GetString()!.Split('\n')
            : WireReader.Strings(error, "backtrace"u8);
        return new StepFailure(WireReader.String(error, "message"u8) ?? "step failed", WireReader.String(error, "error_type"u8),
            WireReader.Bool(error, "permanent"u8) ?? false, WireReader.Number(error, "retry_after_seconds"u8), backtrace);
    }
}
