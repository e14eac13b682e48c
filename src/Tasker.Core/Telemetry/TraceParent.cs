using System.Diagnostics;

namespace Tasker.Core.Telemetry;

/// <summary>
/// The host's trace, given as a W3C <c>traceparent</c> (https://www.w3.org/TR/trace-context/): with a task request
/// it is stored on the task, so every later step span joins that trace; with any other call it is the parent of
/// that call's spans. Hosts using <see cref="Activity"/> need none of this: <see cref="Activity.Current"/> is used.
/// </summary>
public static class TraceParent
{
    /// <summary>The W3C header is exactly 55 characters for version 00; later versions may append fields.</summary>
    private const int MaxLength = 512;

    private static readonly AsyncLocal<ActivityContext?> Explicit = new();

    /// <summary>Validates a <c>traceparent</c>; null or empty is no parent. Malformed values are INVALID_ARGUMENT.</summary>
    public static ActivityContext? Parse(string? traceParent)
    {
        if (string.IsNullOrEmpty(traceParent)) return null;
        if (traceParent.Length > MaxLength || !ActivityContext.TryParse(traceParent, null, isRemote: true, out var context))
            throw TaskerException.InvalidArgument(
                "traceparent must be a W3C trace context header such as 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "traceparent");
        return context;
    }

    /// <summary>Makes <paramref name="traceParent"/> the parent of the engine's spans until the result is disposed.</summary>
    public static Scope Use(string? traceParent) => new(Parse(traceParent));

    /// <summary>
    /// The parent the current call was given, else the host's current activity, else none. Inside one of the
    /// engine's own call spans, that span's parent: step spans are siblings of the call that reported them.
    /// </summary>
    internal static ActivityContext? Current
    {
        get
        {
            if (Explicit.Value is { } given) return given;
            if (Activity.Current is not { } current) return null;
            if (current.Source != TaskerTelemetry.Source) return current.Context;
            return current.ParentSpanId == default
                ? null
                : new ActivityContext(current.TraceId, current.ParentSpanId, current.ActivityTraceFlags, isRemote: current.HasRemoteParent);
        }
    }

    /// <summary>Restores the previous explicit parent when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly ActivityContext? _previous;
        private readonly bool _active;

        internal Scope(ActivityContext? parent)
        {
            if (parent is null) return;
            _previous = Explicit.Value;
            _active = true;
            Explicit.Value = parent;
        }

        public void Dispose()
        {
            if (_active) Explicit.Value = _previous;
        }
    }
}
