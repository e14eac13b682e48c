namespace Tasker.Core;

/// <summary>
/// What a binding measured around a step handler: when it ran and the attributes the handler added. The engine
/// records it as a <c>tasker.handler</c> span inside the step's span, so traces show the handler's own time apart
/// from queueing and reporting.
/// </summary>
/// <param name="StartedAt">When the handler was called.</param>
/// <param name="FinishedAt">When it returned or raised.</param>
/// <param name="Attributes">Span attributes set by the handler: strings, numbers or booleans; at most 64.</param>
public sealed record HandlerRun(DateTimeOffset StartedAt, DateTimeOffset FinishedAt, IReadOnlyList<KeyValuePair<string, object>>? Attributes = null)
{
    public const int MaxAttributes = 64;

    internal void Validate()
    {
        if (FinishedAt < StartedAt)
            throw TaskerException.InvalidArgument("handler finished_at is before started_at", "handler");
        if (Attributes is { Count: > MaxAttributes })
            throw TaskerException.InvalidArgument($"handler attributes: at most {MaxAttributes}", "handler");
        foreach (var (key, value) in Attributes ?? [])
        {
            if (string.IsNullOrEmpty(key) || key.Length > 256)
                throw TaskerException.InvalidArgument("handler attribute names must be 1-256 characters", "handler");
            if (value is not (string or long or double or bool))
                throw TaskerException.InvalidArgument($"handler attribute '{key}' must be a string, number or boolean", "handler");
        }
    }
}
