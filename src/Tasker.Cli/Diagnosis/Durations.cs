using System.Globalization;

namespace Tasker.Cli.Diagnosis;

/// <summary>Parses the ages and thresholds operators type: <c>90s</c>, <c>15m</c>, <c>2h</c>, <c>7d</c>, <c>2w</c>, or plain seconds.</summary>
internal static class Durations
{
    public static bool TryParse(string? text, out TimeSpan span)
    {
        span = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        var unit = char.IsLetter(text[^1]) ? char.ToLowerInvariant(text[^1]) : 's';
        var number = char.IsLetter(text[^1]) ? text[..^1] : text;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || !double.IsFinite(value))
            return false;
        double? seconds = unit switch
        {
            's' => value,
            'm' => value * 60,
            'h' => value * 3600,
            'd' => value * 86_400,
            'w' => value * 604_800,
            _ => null,
        };
        if (seconds is not { } s || s > TimeSpan.MaxValue.TotalSeconds / 2) return false;
        span = TimeSpan.FromSeconds(s);
        return true;
    }
}
