using System.Text.Json;
using Tasker.Core;
using Tasker.Native.Wire;

namespace Tasker.Native.Exports;

/// <summary>
/// <c>tasker_steps_report</c>: the finished steps of one task reported in one call, each applied as its own complete or
/// fail would be, then the task's next steps claimed. A step loop that runs a wave of quick handlers (or gets several
/// back from its pool at once) crosses once per wave instead of once per step, and reads one outcome instead of one a
/// step. The reports stay independent: one the engine refuses (a stale claim, a result with a NUL) is answered in
/// its place and the others are applied.
/// </summary>
internal static class ReportBatch
{
    /// <summary>More than a step loop ever holds (its concurrency): a bound on what one call does under a lock.</summary>
    public const int MaxReports = 1000;

    /// <summary>One parsed report: a result (complete) or a failure (fail).</summary>
    private readonly record struct Report(Guid StepUuid, string ClaimToken, JsonElement? Result, JsonElement? Metadata, StepFailure? Failure, HandlerRun? Handler);

    /// <summary>What each report came to (null: applied), and the claims and outcome after all of them.</summary>
    public sealed record Result(TaskerException?[] Refused, ClaimResult Next);

    public static async ValueTask<Result> ApplyAsync(TaskerEngine engine, JsonElement request)
    {
        var taskUuid = WireReader.RequiredUuid(request, "task_uuid"u8);
        var reports = Read(request);
        var claimNext = StepExports.ReadClaimNext(request);
        var refused = new TaskerException?[reports.Length];
        ClaimResult? last = null;
        for (var i = 0; i < reports.Length; i++)
        {
            // The last report claims the next steps in its own change (one store write, as a single report's would).
            var next = i == reports.Length - 1 ? claimNext : null;
            try
            {
                last = await Apply(engine, taskUuid, reports[i], next).ConfigureAwait(false);
            }
            catch (TaskerException e) when (IsAboutTheReport(e.Code))
            {
                refused[i] = e;
                last = null;
            }
        }
        if (last is null || (claimNext is not null && refused[^1] is not null))
            last = claimNext is not null
                ? await engine.ClaimStepsAsync(taskUuid, claimNext).ConfigureAwait(false)
                : new ClaimResult([], await engine.EvaluateAsync(taskUuid).ConfigureAwait(false));
        return new Result(refused, last);
    }

    /// <summary>
    /// Errors that are about one report (its claim is stale, its content refused, its step unknown): answered in its
    /// place. Any other (the store failed) fails the call as it would fail a single report; the reports before it
    /// are applied, each being its own change. (An unknown task fails every report, then the claim: NOT_FOUND.)
    /// </summary>
    private static bool IsAboutTheReport(TaskerErrorCode code) => code is TaskerErrorCode.StaleClaim or TaskerErrorCode.NotFound
        or TaskerErrorCode.InvalidArgument or TaskerErrorCode.InvalidJson or TaskerErrorCode.InvalidUtf8;

    private static ValueTask<ClaimResult> Apply(TaskerEngine engine, Guid taskUuid, Report r, ClaimOptions? next) =>
        r.Failure is { } failure
            ? engine.FailAndClaimAsync(taskUuid, r.StepUuid, r.ClaimToken, failure, r.Handler, next)
            : engine.CompleteAndClaimAsync(taskUuid, r.StepUuid, r.ClaimToken, r.Result ?? JsonValues.Null, r.Metadata, r.Handler, next);

    /// <summary>Every report is read before any is applied: a malformed one refuses the whole call, changing nothing.</summary>
    private static Report[] Read(JsonElement request)
    {
        if (WireReader.Field(request, "reports"u8) is not { ValueKind: JsonValueKind.Array } list)
            throw TaskerException.InvalidArgument("reports is required: a list of {step_uuid, claim_token, result or error}", "reports");
        var count = list.GetArrayLength();
        if (count is 0 or > MaxReports)
            throw TaskerException.InvalidArgument($"reports must hold 1 to {MaxReports} reports", "reports");
        var reports = new Report[count];
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
                throw TaskerException.InvalidArgument($"reports[{i}] must be a JSON object", "reports");
            var failure = WireReader.Field(item, "error"u8) is null ? null : StepExports.ReadFailure(item);
            reports[i++] = new Report(WireReader.RequiredUuid(item, "step_uuid"u8), WireReader.RequiredString(item, "claim_token"u8),
                failure is null ? WireReader.Kept(item, "result"u8) : null, WireReader.Kept(item, "metadata"u8), failure, StepExports.ReadHandler(item));
        }
        return reports;
    }
}
