using System.Globalization;

namespace Tasker.Cli.Output;

/// <summary>Times, durations and counts as people read them: relative ages, ISO timestamps in UTC, 120,345.</summary>
internal static class Format
{
    /// <summary>A count as people read it: 120,345.</summary>
    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string Age(DateTimeOffset at, DateTimeOffset now) => Duration(now - at) + " ago";

    public static string Duration(TimeSpan span)
    {
        var negative = span < TimeSpan.Zero;
        if (negative) span = span.Negate();
        var text = span.TotalSeconds < 1 ? $"{span.TotalMilliseconds:0}ms"
            : span.TotalMinutes < 1 ? $"{span.TotalSeconds:0.#}s"
            : span.TotalHours < 1 ? $"{(int)span.TotalMinutes}m{span.Seconds:00}s"
            : span.TotalDays < 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m"
            : $"{(int)span.TotalDays}d{span.Hours:00}h";
        return negative ? "-" + text : text;
    }

    public static string Time(DateTimeOffset? at) =>
        at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "";

    /// <summary>The first line of a message, for table cells.</summary>
    public static string FirstLine(string? text) => text is null ? "" : text.Split('\n', 2)[0].TrimEnd('\r');
}
