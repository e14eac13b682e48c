using System.Text.Json;
using Tasker.Core;

namespace Tasker.Native.Wire;

/// <summary>The wire names of states, statuses and actions, encoded once (like <see cref="Names"/>).</summary>
internal static class WireValues
{
    private static readonly JsonEncodedText[] TaskStates = Encode<TaskState>(s => s.ToWire());
    private static readonly JsonEncodedText[] StepStates = Encode<StepState>(s => s.ToWire());
    private static readonly JsonEncodedText[] Statuses = Encode<ExecutionStatus>(s => s.ToWire());
    private static readonly JsonEncodedText[] Actions = Encode<RecommendedAction>(a => a.ToWire());

    public static JsonEncodedText Of(TaskState state) => TaskStates[(int)state];
    public static JsonEncodedText Of(StepState state) => StepStates[(int)state];
    public static JsonEncodedText Of(ExecutionStatus status) => Statuses[(int)status];
    public static JsonEncodedText Of(RecommendedAction action) => Actions[(int)action];

    /// <summary>Indexed by the enum's value (the enums are dense, from 0).</summary>
    private static JsonEncodedText[] Encode<T>(Func<T, string> wire) where T : struct, Enum
    {
        var values = Enum.GetValues<T>();
        var encoded = new JsonEncodedText[values.Length];
        foreach (var value in values)
            encoded[Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)] = JsonEncodedText.Encode(wire(value));
        return encoded;
    }
}
