using System.Text.Json;
using Tasker.Core;
using Tasker.Native.Wire;

namespace Tasker.Native.Exports;

/// <summary>
/// <c>tasker_steps_report</c>: the finished steps of one task reported in one call and applied in one change of the
/// task (<see cref="TaskerEngine.ReportStepsAsync"/>), then the task's next steps claimed. A step loop that runs a wave
/// of quick handlers (or gets several back from its pool at once) crosses once per wave instead of once per step, and
/// on PostgreSQL commits once per wave. A report the engine refuses (a stale claim, a result with a NUL) is answered
/// in its place and the others are applied.
/// </summary>
internal static class ReportBatch
{
    public static ValueTask<ReportsResult> ApplyAsync(TaskerEngine engine, JsonElement request) =>
        engine.ReportStepsAsync(WireReader.RequiredUuid(request, "task_uuid"u8), Read(request), StepExports.ReadClaimNext(request));

    /// <summary>Every report is read before any is applied: a malformed one refuses the whole call, changing nothing.</summary>
    private static StepReport[] Read(JsonElement request)
    {
        if (WireReader.Field(request, "reports"u8) is not { ValueKind: JsonValueKind.Array } list)
            throw TaskerException.InvalidArgument("reports is required: a list of {step_uuid, claim_token, result or error}", "reports");
        var count = list.GetArrayLength();
        if (count is 0 or > TaskerEngine.MaxReportsPerCall)
            throw TaskerException.InvalidArgument($"reports must hold 1 to {TaskerEngine.MaxReportsPerCall} reports", "reports");
        var reports = new StepReport[count];
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
                throw TaskerException.InvalidArgument($"reports[{i}] must be a JSON object", "reports");
            var failure = WireReader.Field(item, "error"u8) is null ? null : StepExports.ReadFailure(item);
            reports[i++] = new StepReport(WireReader.RequiredUuid(item, "step_uuid"u8), WireReader.RequiredString(item, "claim_token"u8),
                failure is null ? WireReader.Kept(item, "result"u8) : null, WireReader.Kept(item, "metadata"u8), failure, StepExports.ReadHandler(item));
        }
        return reports;
    }
}
