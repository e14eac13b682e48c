namespace Tasker.Core.Events;

/// <summary>A parsed subscription pattern: <c>*</c>, <c>prefix.*</c> or an exact event name.</summary>
public sealed class EventPattern
{
    private readonly string? _exact;
    private readonly string? _prefix;

    private EventPattern(string text, string? exact, string? prefix)
    {
        Text = text;
        _exact = exact;
        _prefix = prefix;
    }

    public string Text { get; }

    public static EventPattern Parse(string pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern) || pattern.Length > 256)
            throw TaskerException.InvalidArgument("event pattern must be 1-256 characters: '*', 'step.*' or an event name", "pattern");
        if (pattern == "*")
            return new EventPattern(pattern, null, "");
        if (pattern.EndsWith(".*", StringComparison.Ordinal) && pattern.IndexOf('*') == pattern.Length - 1)
            return new EventPattern(pattern, null, pattern[..^1]);
        if (pattern.Contains('*', StringComparison.Ordinal))
            throw TaskerException.InvalidArgument($"event pattern '{pattern}' may only end in '.*'", "pattern");
        return new EventPattern(pattern, pattern, null);
    }

    public bool Matches(string name) =>
        _exact is not null ? string.Equals(_exact, name, StringComparison.Ordinal) : name.StartsWith(_prefix!, StringComparison.Ordinal);
}
