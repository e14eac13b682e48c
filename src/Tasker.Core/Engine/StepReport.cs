using System.Text.Json;

namespace Tasker.Core;

/// <summary>One finished step in a batch of reports (<see cref="TaskerEngine.ReportStepsAsync"/>).</summary>
/// <param name="Result">The step's result when it completed (null stands for JSON null); ignored with a failure.</param>
/// <param name="Failure">Why the attempt failed, or null when it completed.</param>
public sealed record StepReport(
    Guid StepUuid,
    string ClaimToken,
    JsonElement? Result = null,
    JsonElement? Metadata = null,
    StepFailure? Failure = null,
    HandlerRun? Handler = null);

/// <summary>What a batch of reports came to.</summary>
/// <param name="Refused">One entry per report, in order: null when it was applied, else why it was refused (a stale
/// claim, an unknown step, a result the engine does not take). A refused report changed nothing.</param>
/// <param name="Next">The task's next claims (when asked for) and its outcome after every applied report.</param>
public sealed record ReportsResult(IReadOnlyList<TaskerException?> Refused, ClaimResult Next);
