using System.Text.Json;

namespace Tasker.Core;

/// <summary>
/// A claimed step and everything its handler needs: the task, the step, the results of the steps it depends on
/// (direct parents, keyed by step name) and the claim token that alone can complete or fail this attempt.
/// </summary>
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
    DateTimeOffset LeaseExpiresAt);

/// <summary>The steps a claim call obtained, and the task's outcome afterwards.</summary>
public sealed record ClaimResult(IReadOnlyList<StepClaim> Claims, TaskOutcome Outcome);

/// <summary>Options of a claim call.</summary>
public sealed record ClaimOptions(int MaxSteps = 16, TimeSpan? Lease = null, string? WorkerId = null);
