namespace Tasker.Core;

/// <summary>Several finished steps of one task reported together.</summary>
public sealed partial class TaskerEngine
{
    /// <summary>More than a step loop ever holds at once: a bound on what one change of a task does.</summary>
    public const int MaxReportsPerCall = 1000;

    /// <summary>
    /// Applies the reports of one task's finished steps in one change of the task (one store write, one commit on
    /// PostgreSQL), each as <see cref="CompleteAndClaimAsync"/> or <see cref="FailAndClaimAsync"/> would apply it
    /// alone, then claims the task's next steps with <paramref name="claimNext"/> (or evaluates it). A report the
    /// engine refuses (a stale claim, an unknown step, a result with a NUL, an invalid handler run) is answered in its
    /// place and changes nothing; the others are applied. When the store fails, the batch is applied whole or not at all
    /// (a commit whose reply was lost may have been applied: sending the reports again answers STALE_CLAIM for those).
    /// </summary>
    public ValueTask<ReportsResult> ReportStepsAsync(Guid taskUuid, IReadOnlyList<StepReport> reports, ClaimOptions? claimNext,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reports);
        if (reports.Count is 0 or > MaxReportsPerCall)
            throw TaskerException.InvalidArgument($"reports must hold 1 to {MaxReportsPerCall} reports", "reports");
        CheckClaim(claimNext);
        var refused = new TaskerException?[reports.Count];
        for (var i = 0; i < reports.Count; i++)
            refused[i] = Refusal(reports[i] ?? throw new ArgumentException($"reports[{i}] is null", nameof(reports)));
        return Announcing(Mutate("report", taskUuid, task => _lifecycle.Report(task, reports, refused, claimNext), cancellationToken),
            static r => r.Next.Outcome, cancellationToken);
    }

    /// <summary>What a single complete or fail would refuse before touching the task, or null.</summary>
    private static TaskerException? Refusal(StepReport report)
    {
        try
        {
            report.Handler?.Validate();
            if (report.Failure is { } failure)
                CheckRetryAfter(failure);
            else
            {
                NulText.Refuse(report.Result, "result");
                NulText.Refuse(report.Metadata, "metadata");
            }
            return null;
        }
        catch (TaskerException e)
        {
            return e;
        }
    }
}
