using System.Text.Json;

namespace Tasker.Core;

/// <summary>
/// A claimed step and everything its handler needs: the task, the step, the results of the steps it depends on
/// (direct parents, keyed by step name) and the claim token that alone can complete or fail this attempt.
/// </summary>
/// <param name="DeadlineAt">When the attempt times out (the step's <c>timeout_seconds</c> after the claim), or null.
/// The lease never runs past it; a report after it is a stale claim and the attempt fails as a <c>Timeout</c>.</param>
/// <param name="StepsLeft">How many other steps of the task were unfinished (pending, waiting for retry or in
/// progress) when this one was claimed. 0: it is the task's last, so once it completes its report's claim_next can
/// find nothing (a failure may still claim its own retry), and a worker frees its slot for the next work claim while
/// the report is on its way instead of holding it for a next step. Never grows while the claim runs, except when an
/// operator retries a failed step.</param>
public sealed record StepClaim(
    Guid TaskUuid,
    string Namespace,
    string TaskName,
    string TaskVersion,
    JsonElement Context,
    IReadOnlyList<string> Tags,
    Guid StepUuid,
    string StepName,
    string Handler,
    int Attempt,
    int MaxAttempts,
    JsonElement? Initialization,
    IReadOnlyList<KeyValuePair<string, JsonElement>> DependencyResults,
    string ClaimToken,
    DateTimeOffset LeaseExpiresAt,
    DateTimeOffset? DeadlineAt,
    int StepsLeft);

/// <summary>The steps a claim call obtained, and the task's outcome afterwards.</summary>
public sealed record ClaimResult(IReadOnlyList<StepClaim> Claims, TaskOutcome Outcome);

/// <summary>Options of a claim call.</summary>
/// <param name="Handlers">The handlers the caller can run: only steps naming one of them are claimed, and ready steps
/// naming another stay ready and are reported in <see cref="TaskOutcome.WaitingForHandlers"/>. Null means the caller
/// runs every handler.</param>
public sealed record ClaimOptions(int MaxSteps = 16, TimeSpan? Lease = null, string? WorkerId = null, IReadOnlySet<string>? Handlers = null)
{
    internal bool CanRun(string handler) => Handlers is null || Handlers.Contains(handler);
}
