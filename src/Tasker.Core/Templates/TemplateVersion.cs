using Semver;

namespace Tasker.Core.Templates;

/// <summary>
/// A template version: a SemVer 2.0 version (<c>major.minor.patch</c>, optional <c>-prerelease</c> and
/// <c>+build</c>), parsed and ordered by the Semver library. Pre-release identifiers order as SemVer says
/// (numeric ones as numbers: <c>beta.2</c> &lt; <c>beta.10</c>); build metadata is kept but does not affect order.
/// Several versions of one template coexist; a request without a version gets the highest one.
/// </summary>
public sealed record TemplateVersion : IComparable<TemplateVersion>
{
    private const int MaxLength = 128;
    private readonly SemVersion _version;

    private TemplateVersion(SemVersion version) => _version = version;

    public int Major => (int)_version.Major;
    public int Minor => (int)_version.Minor;
    public int Patch => (int)_version.Patch;
    public string? Prerelease => _version.IsPrerelease ? _version.Prerelease : null;
    public string? Metadata => _version.Metadata.Length > 0 ? _version.Metadata : null;

    public static TemplateVersion Parse(string? text)
    {
        if (text is not null && text.Length <= MaxLength
            && SemVersion.TryParse(text, SemVersionStyles.Strict, out var version)
            && version.Major <= int.MaxValue && version.Minor <= int.MaxValue && version.Patch <= int.MaxValue)
            return new TemplateVersion(version);
        throw new TaskerException(TaskerErrorCode.InvalidArgument,
            $"bad template version '{(text is null ? "" : text.Length > 64 ? text[..64] + "..." : text)}': expected a semantic version such as 1.0.0, 1.0.0-beta.2 or 1.0.0+build.5",
            new Dictionary<string, string> { ["field"] = "version", ["value"] = text ?? "" });
    }

    /// <summary>SemVer 2.0 precedence; build metadata breaks ties only so that the order is total and stable.</summary>
    public int CompareTo(TemplateVersion? other) =>
        other is null ? 1 : _version.ComparePrecedenceTo(other._version) is var c and not 0 ? c
            : string.CompareOrdinal(_version.Metadata, other._version.Metadata);

    public bool Equals(TemplateVersion? other) => other is not null && _version.Equals(other._version);

    public override int GetHashCode() => _version.GetHashCode();

    // Every task of the template stores this text: one string per template rather than one per task.
    private string? _text;

    public override string ToString() => _text ??= _version.ToString();
}
