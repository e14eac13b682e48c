namespace Tasker.Core.Templates;

/// <summary>How a template's <c>environments:</c> and <c>${VAR}</c> placeholders are resolved at registration.</summary>
public sealed record TemplateParseOptions
{
    /// <summary>
    /// The environment whose <c>environments:</c> overrides apply (Rails Tasker's <c>Rails.env</c>). Null applies
    /// none. <see cref="TaskerOptions.Environment"/> defaults it from <c>TASKER_ENV</c>, <c>RAILS_ENV</c>, <c>APP_ENV</c>.
    /// </summary>
    public string? Environment { get; init; }

    /// <summary>Where <c>${VAR}</c> placeholders are looked up: the process environment unless a test says otherwise.</summary>
    public Func<string, string?> Variables { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>
    /// False for a template already resolved (a store reading back what was registered): its filled values are
    /// data, and a literal <c>${X}</c> in them must stay as it is.
    /// </summary>
    public bool ResolvePlaceholders { get; init; } = true;

    public static TemplateParseOptions None { get; } = new();

    /// <summary>For text a store wrote from a registered template: no overrides, no placeholders.</summary>
    public static TemplateParseOptions Resolved { get; } = new() { ResolvePlaceholders = false };

    /// <summary>The first of <c>TASKER_ENV</c>, <c>RAILS_ENV</c>, <c>APP_ENV</c> that is set and not empty.</summary>
    public static string? EnvironmentFromProcess() =>
        new[] { "TASKER_ENV", "RAILS_ENV", "APP_ENV" }
            .Select(System.Environment.GetEnvironmentVariable)
            .FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
