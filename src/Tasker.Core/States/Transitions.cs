namespace Tasker.Core;

/// <summary>
/// The explicit transition tables. Every state change in the engine goes through <see cref="Check(StepState,StepState,string)"/>
/// or <see cref="Check(TaskState,TaskState)"/>: a same-state "transition" is reported as a no-op (false) rather than an
/// error, and an illegal one is an <see cref="TaskerErrorCode.InvalidState"/> naming both states.
/// </summary>
public static class Transitions
{
    private static readonly StepState[][] StepTable = BuildStepTable();
    private static readonly TaskState[][] TaskTable = BuildTaskTable();

    private static StepState[][] BuildStepTable()
    {
        var t = new StepState[7][];
        t[(int)StepState.Pending] = [StepState.InProgress, StepState.Cancelled, StepState.ResolvedManually];
        t[(int)StepState.InProgress] = [StepState.Complete, StepState.WaitingForRetry, StepState.Error, StepState.Cancelled, StepState.ResolvedManually];
        t[(int)StepState.WaitingForRetry] = [StepState.InProgress, StepState.Cancelled, StepState.ResolvedManually];
        t[(int)StepState.Error] = [StepState.Pending, StepState.ResolvedManually];
        t[(int)StepState.Cancelled] = [StepState.Pending];
        t[(int)StepState.Complete] = [];
        t[(int)StepState.ResolvedManually] = [];
        return t;
    }

    private static TaskState[][] BuildTaskTable()
    {
        var t = new TaskState[7][];
        t[(int)TaskState.Pending] = [TaskState.InProgress, TaskState.WaitingForRetry, TaskState.Complete, TaskState.Error, TaskState.Cancelled, TaskState.ResolvedManually];
        t[(int)TaskState.InProgress] = [TaskState.WaitingForRetry, TaskState.Complete, TaskState.Error, TaskState.Cancelled, TaskState.ResolvedManually];
        t[(int)TaskState.WaitingForRetry] = [TaskState.InProgress, TaskState.Complete, TaskState.Error, TaskState.Cancelled, TaskState.ResolvedManually];
        t[(int)TaskState.Error] = [TaskState.Pending];
        t[(int)TaskState.Complete] = [];
        t[(int)TaskState.Cancelled] = [];
        t[(int)TaskState.ResolvedManually] = [];
        return t;
    }

    public static bool IsAllowed(StepState from, StepState to) => Array.IndexOf(StepTable[(int)from], to) >= 0;

    public static bool IsAllowed(TaskState from, TaskState to) => Array.IndexOf(TaskTable[(int)from], to) >= 0;

    /// <summary>Returns true when the transition must be applied, false when it is a no-op; throws when illegal.</summary>
    public static bool Check(StepState from, StepState to, string stepName)
    {
        if (from == to) return false;
        if (IsAllowed(from, to)) return true;
        throw new TaskerException(TaskerErrorCode.InvalidState,
            $"step '{stepName}' cannot go from {from.ToWire()} to {to.ToWire()}",
            new Dictionary<string, string> { ["step_name"] = stepName, ["from"] = from.ToWire(), ["to"] = to.ToWire() });
    }

    /// <summary>Returns true when the transition must be applied, false when it is a no-op; throws when illegal.</summary>
    public static bool Check(TaskState from, TaskState to)
    {
        if (from == to) return false;
        if (IsAllowed(from, to)) return true;
        throw new TaskerException(TaskerErrorCode.InvalidState,
            $"task cannot go from {from.ToWire()} to {to.ToWire()}",
            new Dictionary<string, string> { ["from"] = from.ToWire(), ["to"] = to.ToWire() });
    }
}
