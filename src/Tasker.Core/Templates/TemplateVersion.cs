using System.Globalization;
using System.Text.RegularExpressions;

namespace Tasker.Core.Templates;

/// <summary>
/// A semantic version (<c>major.minor.patch</c> with an optional <c>-prerelease</c>). Several versions of one
/// template coexist; a request without a version gets the highest one.
/// </summary>
public sealed partial record TemplateVersion(int Major, int Minor, int Patch, string? Prerelease) : IComparable<TemplateVersion>
{
    public static TemplateVersion Parse(string? text)
    {
        var match = text is null ? null : Pattern().Match(text);
        if (match is null || !match.Success)
            throw new TaskerException(TaskerErrorCode.InvalidArgument,
                $"bad template version '{text}': expected major.minor.patch such as 1.0.0",
                new Dictionary<string, string> { ["field"] = "version", ["value"] = text ?? "" });
        return new TemplateVersion(
            int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture),
            int.Parse(match.Groups[2].ValueSpan, CultureInfo.InvariantCulture),
            int.Parse(match.Groups[3].ValueSpan, CultureInfo.InvariantCulture),
            match.Groups[4].Success ? match.Groups[4].Value : null);
    }

    public int CompareTo(TemplateVersion? other)
    {
        if (other is null) return 1;
        var c = Major.CompareTo(other.Major);
        if (c == 0) c = Minor.CompareTo(other.Minor);
        if (c == 0) c = Patch.CompareTo(other.Patch);
        if (c != 0) return c;
        // A release sorts above its pre-releases (1.0.0 > 1.0.0-beta).
        return (Prerelease, other.Prerelease) switch
        {
            (null, null) => 0,
            (null, _) => 1,
            (_, null) => -1,
            _ => string.CompareOrdinal(Prerelease, other.Prerelease),
        };
    }

    public override string ToString() =>
        Prerelease is null ? $"{Major}.{Minor}.{Patch}" : $"{Major}.{Minor}.{Patch}-{Prerelease}";

    [GeneratedRegex(@"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})(?:-([0-9A-Za-z.-]{1,64}))?$")]
    private static partial Regex Pattern();
}
