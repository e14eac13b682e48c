using System.Text.Json;
using Tasker.Core.Graph;

namespace Tasker.Core.Templates;

/// <summary>How a task's identity is derived for de-duplication.</summary>
public enum IdentityStrategy
{
    /// <summary>Only an explicit <c>idempotency_key</c> de-duplicates.</summary>
    Default,
    /// <summary>The canonical context is hashed: creating the same task twice returns the first.</summary>
    Strict,
}

/// <summary>Per-step retry settings; nulls fall back to the engine's defaults.</summary>
public sealed record RetrySettings(bool Retryable = true, int? MaxAttempts = null, double? BackoffBaseSeconds = null, double? MaxBackoffSeconds = null);

/// <summary>One step of a template.</summary>
public sealed record StepTemplate(
    string Name,
    string? Description,
    string Handler,
    JsonElement? Initialization,
    IReadOnlyList<string> Dependencies,
    RetrySettings Retry,
    int? TimeoutSeconds)
{
    /// <summary>Rails Tasker's <c>skippable</c>: a task request may name this step in <c>bypass_steps</c>.</summary>
    public bool Skippable { get; init; }

    /// <summary>The external system the step talks to (<c>dependent_system</c>, else the template's default).</summary>
    public string? DependentSystem { get; init; }
}

/// <summary>A validated, immutable task template: its steps, in declaration order, and their DAG.</summary>
public sealed record TaskTemplate(
    string Namespace,
    string Name,
    TemplateVersion Version,
    string? Description,
    JsonElement? InputSchema,
    bool FailFast,
    IdentityStrategy IdentityStrategy,
    IReadOnlyList<StepTemplate> Steps,
    DagShape Graph)
{
    /// <summary>Seconds a task of this template may run before it goes to <c>error</c>; null for no limit.</summary>
    public int? TimeoutSeconds { get; init; }

    public string Key => $"{Namespace}/{Name}@{Version}";

    /// <summary>The descriptive Rails Tasker keys, kept and shown with the template.</summary>
    public TemplateDetails Details { get; init; } = TemplateDetails.None;

    /// <summary>The compiled <see cref="InputSchema"/>, built once at registration.</summary>
    internal Schema.InputSchemaValidator? Validator { get; init; }

    /// <summary>
    /// The key <see cref="InputSchema"/> was given under: <c>input_schema</c>, or Rails Tasker's <c>schema</c>, whose
    /// schemas default to draft-07. A store that writes the template out must keep it, or the schema would be read
    /// back under another draft.
    /// </summary>
    internal string InputSchemaKey => Validator?.Key ?? "input_schema";
}

/// <summary>
/// What a Rails Tasker template says about itself that the engine does not act on: kept so that nothing a template
/// declares is silently dropped, returned by registration and stored with the template.
/// </summary>
public sealed record TemplateDetails
{
    public static TemplateDetails None { get; } = new();
    public string? ModuleNamespace { get; init; }
    public string? TaskHandlerClass { get; init; }
    /// <summary>Rails Tasker's <c>concurrent</c>; here independent ready steps always run concurrently.</summary>
    public bool? Concurrent { get; init; }
    public string? DefaultDependentSystem { get; init; }
    public IReadOnlyList<string>? NamedSteps { get; init; }
    /// <summary>The environment whose <c>environments:</c> overrides were applied, if any.</summary>
    public string? Environment { get; init; }
}
