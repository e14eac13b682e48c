namespace Tasker.Core;

/// <summary>The snake_case wire names of states, shared by JSON, events, SQL and the bindings.</summary>
public static class StateNames
{
    private static readonly string[] Names =
        ["pending", "in_progress", "waiting_for_retry", "complete", "error", "cancelled", "resolved_manually"];

    public static string ToWire(this StepState state) => Names[(int)state];

    public static string ToWire(this TaskState state) => Names[(int)state];

    public static StepState ParseStepState(string name) => (StepState)IndexOf(name);

    public static TaskState ParseTaskState(string name) => (TaskState)IndexOf(name);

    /// <summary>A state's number (its place in the enum), for a compact record of it; the inverse of <see cref="Name"/>.</summary>
    internal static byte Number(string name) => (byte)IndexOf(name);

    internal static string Name(byte number) => Names[number];

    private static int IndexOf(string name)
    {
        var index = Array.IndexOf(Names, name);
        return index >= 0
            ? index
            : throw TaskerException.InvalidArgument($"unknown state '{name}' (expected one of: {string.Join(", ", Names)})", "state");
    }

    public static bool IsTerminal(this TaskState state) =>
        state is TaskState.Complete or TaskState.Cancelled or TaskState.ResolvedManually;

    public static bool IsFinished(this TaskState state) => state.IsTerminal() || state == TaskState.Error;

    /// <summary>A satisfied step unblocks its dependents.</summary>
    public static bool IsSatisfied(this StepState state) => state is StepState.Complete or StepState.ResolvedManually;
}
