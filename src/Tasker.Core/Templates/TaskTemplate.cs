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
    int? TimeoutSeconds);

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
}
