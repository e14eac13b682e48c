namespace Tasker.Core;

/// <summary>
/// The one exception type the engine throws for expected failures. <see cref="Details"/> holds machine-readable
/// context (offending step names, both states of an illegal transition, ...) as string pairs so it crosses the
/// C ABI as a flat JSON object. Messages never contain secrets or full task contexts.
/// </summary>
public sealed class TaskerException : Exception
{
    public TaskerException(TaskerErrorCode code, string message, IReadOnlyDictionary<string, string>? details = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Details = details ?? EmptyDetails;
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyDetails = new Dictionary<string, string>();

    public TaskerErrorCode Code { get; }

    public IReadOnlyDictionary<string, string> Details { get; }

    internal static TaskerException NotFound(string what, string key) =>
        new(TaskerErrorCode.NotFound, $"{what} not found: {key}", new Dictionary<string, string> { ["kind"] = what, ["key"] = key });

    internal static TaskerException InvalidArgument(string message, string? field = null) =>
        new(TaskerErrorCode.InvalidArgument, message, field is null ? null : new Dictionary<string, string> { ["field"] = field });

    internal static TaskerException StaleClaim(string stepName, string reason) =>
        new(TaskerErrorCode.StaleClaim, $"stale claim for step '{stepName}': {reason}",
            new Dictionary<string, string> { ["step_name"] = stepName, ["reason"] = reason });
}
