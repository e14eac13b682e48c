using Tasker.Core;

namespace Tasker.Cli.Diagnosis;

/// <summary>
/// Why a step that has not finished is not running right now, in one sentence an operator can act on. Null for steps
/// that are running or finished (their state says it all).
/// </summary>
internal static class WhyNotRunning
{
    public static string? Explain(TaskView task, StepView step, DateTimeOffset now, TimeSpan unclaimedAfter)
    {
        if (step.State is not (StepState.Pending or StepState.WaitingForRetry)) return null;
        if (task.State == TaskState.Cancelled) return "the task was cancelled";
        var failed = step.Readiness.WaitingOn.Where(p => task.Step(p).State is StepState.Error or StepState.Cancelled).ToArray();
        if (failed.Length > 0)
            return $"blocked: {Names(failed)} failed; retry the task (tasker retry) or resolve {(failed.Length == 1 ? "it" : "them")} (tasker resolve)";
        if (task.State == TaskState.Error)
            return "the task ended in error: nothing runs until it is retried (tasker retry)";
        if (step.Readiness.WaitingOn.Count > 0)
            return "waiting for " + string.Join(", ", step.Readiness.WaitingOn.Select(p => $"{p} ({task.Step(p).State.ToWire()})"));
        if (step.Readiness.AttemptsExhausted)
            return $"no attempts left ({step.Attempts}/{step.MaxAttempts})";
        if (step.Readiness.RetryAt is { } retryAt && retryAt > now)
            return $"retry {step.Attempts + 1}/{step.MaxAttempts} scheduled at {Output.Format.Time(retryAt)} (in {Output.Format.Duration(retryAt - now)})" +
                   (step.Error is { } e ? $" after: {Output.Format.FirstLine(e.Message)}" : "");
        // Ready: all that is missing is a worker.
        var since = ReadySince(task, step);
        var waited = now - since;
        var text = $"ready for {Output.Format.Duration(waited)}, waiting for a worker with handler '{step.Handler}' to claim it";
        return waited >= unclaimedAfter ? text + " (stale: nobody is driving this task; re-enqueue it)" : text;
    }

    /// <summary>When the step became ready, as far as the snapshot tells: its parents' last finish, or the task's creation.</summary>
    private static DateTimeOffset ReadySince(TaskView task, StepView step)
    {
        var since = task.Header.CreatedAt;
        foreach (var parent in step.Dependencies)
            if (task.Step(parent).FinishedAt is { } f && f > since) since = f;
        var last = task.Transitions.LastOrDefault(t => t.StepUuid == step.StepUuid);
        if (last is not null && last.At > since) since = last.At;
        if (step.Readiness.RetryAt is { } r && r > since) since = r;
        return since;
    }

    private static string Names(string[] names) => string.Join(", ", names);
}
