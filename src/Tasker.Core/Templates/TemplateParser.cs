using System.Text.Json;
using System.Text.RegularExpressions;
using Tasker.Core.Graph;

namespace Tasker.Core.Templates;

/// <summary>
/// Reads a task template from YAML or JSON text, in either accepted format, and validates it:
/// <list type="bullet">
/// <item>core format: <c>name, namespace_name, version, steps: [{name, handler: {callable, initialization}, dependencies | depends_on, retry, timeout_seconds}]</c></item>
/// <item>Rails Tasker format: <c>name, namespace_name, version, step_templates: [{name, handler_class, handler_config, depends_on_step, depends_on_steps, default_retryable, default_retry_limit}]</c></item>
/// </list>
/// Errors name what is wrong: the field, the duplicate or unknown step names, or the cycle itself.
/// </summary>
public static partial class TemplateParser
{
    /// <summary>The largest template text accepted: 4 MiB.</summary>
    public const int MaxTemplateBytes = 4 * 1024 * 1024;

    /// <summary>The most steps one template may declare.</summary>
    public const int MaxSteps = 100_000;

    /// <summary>The namespace of a template that names none (what Rails Tasker uses).</summary>
    public const string DefaultNamespace = "default";

    /// <summary>The version of a template that gives none, as in Rails Tasker (<c>NamedTask::DEFAULT_VERSION</c>).</summary>
    public const string DefaultVersion = "0.1.0";

    public static TaskTemplate Parse(string text) => Parse(text, TemplateParseOptions.None);

    public static TaskTemplate Parse(string text, TemplateParseOptions options)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxTemplateBytes)
            throw TaskerException.InvalidArgument($"template text is {text.Length} characters; the limit is {MaxTemplateBytes}", "template");
        var trimmed = text.AsSpan().TrimStart();
        if (trimmed.IsEmpty)
            throw TaskerException.InvalidArgument("template is empty", "template");
        var root = trimmed[0] == '{' ? JsonValues.Parse(text, "template") : YamlToJson.Convert(text);
        return Read(root, options);
    }

    public static TaskTemplate Read(JsonElement root) => Read(root, TemplateParseOptions.None);

    public static TaskTemplate Read(JsonElement root, TemplateParseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (root.ValueKind != JsonValueKind.Object)
            throw TaskerException.InvalidArgument("template must be a mapping with name, namespace_name, version and steps", "template");
        NulText.Refuse(root, "template"); // the same answer on every store: PostgreSQL cannot store U+0000

        var name = RequiredName(root);
        TemplateKeys.Check(root, TemplateKeys.Root, name, "the template");
        root = TemplateEnvironment.Apply(root, name, options, out var environment);
        var ns = Alternative(root, "namespace_name", "namespace", name) ?? DefaultNamespace;
        CheckIdentifier(ns, "namespace_name");
        var version = TemplateVersion.Parse(OptionalString(root, "version") ?? DefaultVersion);
        var defaultSystem = OptionalString(root, "default_dependent_system");

        List<StepTemplate> steps;
        var hasRails = root.TryGetProperty("step_templates", out var railsSteps);
        var hasCore = root.TryGetProperty("steps", out var coreSteps);
        if (hasRails && hasCore)
            throw TaskerException.InvalidArgument($"template '{name}' has both 'steps' and 'step_templates'; use one format", "steps");
        if (hasRails)
            steps = ReadSteps(railsSteps, name, (e, i) => ReadRailsStep(e, i, name, defaultSystem));
        else if (hasCore)
            steps = ReadSteps(coreSteps, name, (e, i) => ReadCoreStep(e, i, name, defaultSystem));
        else
            throw new TaskerException(TaskerErrorCode.InvalidDag, $"template '{name}' has no steps (expected 'steps' or 'step_templates')",
                new Dictionary<string, string> { ["template"] = name });

        JsonElement? schema = null;
        var schemaKey = root.TryGetProperty("input_schema", out _) ? "input_schema" : "schema";
        if (root.TryGetProperty("input_schema", out _) && root.TryGetProperty("schema", out _))
            throw TaskerException.InvalidArgument($"template '{name}' has both 'input_schema' and 'schema'; use one", "input_schema");
        if (root.TryGetProperty(schemaKey, out var s) && s.ValueKind != JsonValueKind.Null)
        {
            if (s.ValueKind != JsonValueKind.Object)
                throw TaskerException.InvalidArgument($"template '{name}': {schemaKey} must be an object", schemaKey);
            schema = s.Clone();
        }

        var identity = OptionalString(root, "identity_strategy") switch
        {
            null or "default" => IdentityStrategy.Default,
            "strict" => IdentityStrategy.Strict,
            var other => throw TaskerException.InvalidArgument($"template '{name}': unknown identity_strategy '{other}' (expected default or strict)", "identity_strategy"),
        };

        var graph = BuildGraph(name, steps);
        var namedSteps = StringList(root, "named_steps", name);
        CheckNamedSteps(name, namedSteps, steps);
        return new TaskTemplate(ns, name, version, OptionalString(root, "description"), schema,
            OptionalBool(root, "fail_fast") ?? false, identity, steps, graph)
        {
            TimeoutSeconds = CheckTimeout(OptionalInt(root, "timeout_seconds", name), $"template '{name}'"),
            Details = new TemplateDetails
            {
                ModuleNamespace = OptionalString(root, "module_namespace"),
                TaskHandlerClass = OptionalString(root, "task_handler_class"),
                Concurrent = OptionalBool(root, "concurrent"),
                DefaultDependentSystem = defaultSystem,
                NamedSteps = namedSteps,
                Environment = environment,
            },
            Validator = schema is { } compiled ? Schema.InputSchemaValidator.Build(compiled, name, schemaKey) : null,
        };
    }

    /// <summary>Rails Tasker's <c>named_steps</c> lists the step names; a list that disagrees is a typo somewhere.</summary>
    private static void CheckNamedSteps(string template, List<string>? named, List<StepTemplate> steps)
    {
        if (named is null) return;
        var declared = steps.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var listed = named.ToHashSet(StringComparer.Ordinal);
        var missing = named.Where(n => !declared.Contains(n)).ToList();
        var unlisted = steps.Select(s => s.Name).Where(n => !listed.Contains(n)).ToList();
        if (missing.Count > 0 || unlisted.Count > 0)
            throw TaskerException.InvalidArgument(
                $"template '{template}': named_steps and the steps disagree" +
                (missing.Count > 0 ? $"; named but not declared: {string.Join(", ", missing)}" : "") +
                (unlisted.Count > 0 ? $"; declared but not named: {string.Join(", ", unlisted)}" : ""), "named_steps");
    }

    private static string? Alternative(JsonElement root, string key, string alias, string template)
    {
        if (root.TryGetProperty(key, out _) && root.TryGetProperty(alias, out _))
            throw TaskerException.InvalidArgument($"template '{template}' has both '{key}' and '{alias}'; use one", key);
        return OptionalString(root, key) ?? OptionalString(root, alias);
    }

    private static List<StepTemplate> ReadSteps(JsonElement array, string template, Func<JsonElement, int, StepTemplate> readStep)
    {
        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() == 0)
            throw new TaskerException(TaskerErrorCode.InvalidDag, $"template '{template}' has no steps",
                new Dictionary<string, string> { ["template"] = template });
        if (array.GetArrayLength() > MaxSteps)
            throw TaskerException.InvalidArgument($"template '{template}' has {array.GetArrayLength()} steps; the limit is {MaxSteps}", "steps");
        var steps = new List<StepTemplate>(array.GetArrayLength());
        var index = 0;
        foreach (var element in array.EnumerateArray())
            steps.Add(readStep(element, index++));
        return steps;
    }

    private static StepTemplate ReadCoreStep(JsonElement step, int index, string template, string? defaultSystem)
    {
        RequireObject(step, index);
        var name = RequiredIdentifier(step, "name", $"step #{index + 1} name");
        TemplateKeys.Check(step, TemplateKeys.CoreStep, template, $"step '{name}'");
        string handler;
        JsonElement? init = null;
        if (step.TryGetProperty("handler", out var h) && h.ValueKind == JsonValueKind.Object)
        {
            TemplateKeys.Check(h, TemplateKeys.CoreHandler, template, $"step '{name}' handler");
            handler = OptionalString(h, "callable") ?? throw TaskerException.InvalidArgument($"step '{name}': handler.callable is required", "handler.callable");
            init = OptionalObject(h, "initialization", name);
        }
        else
        {
            handler = (step.TryGetProperty("handler", out h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null)
                ?? throw TaskerException.InvalidArgument($"step '{name}': handler is required (handler: {{callable: ...}})", "handler");
        }

        if (step.TryGetProperty("dependencies", out _) && step.TryGetProperty("depends_on", out _))
            throw TaskerException.InvalidArgument($"step '{name}' has both 'dependencies' and 'depends_on'; use one", "dependencies");
        var dependencies = StringList(step, "dependencies", name) ?? StringList(step, "depends_on", name) ?? [];
        var retry = new RetrySettings();
        if (step.TryGetProperty("retry", out var r) && r.ValueKind == JsonValueKind.Object)
        {
            TemplateKeys.Check(r, TemplateKeys.CoreRetry, template, $"step '{name}' retry");
            retry = new RetrySettings(
                OptionalBool(r, "retryable") ?? true,
                OptionalInt(r, "max_attempts", name) ?? OptionalInt(r, "limit", name),
                OptionalNumber(r, "backoff_base_seconds", name),
                OptionalNumber(r, "max_backoff_seconds", name));
        }
        return new StepTemplate(name, OptionalString(step, "description"), CheckHandler(handler, name), init, dependencies,
            CheckRetry(retry, name), CheckTimeout(OptionalInt(step, "timeout_seconds", name), $"step '{name}'"))
        {
            Skippable = OptionalBool(step, "skippable") ?? false,
            DependentSystem = OptionalString(step, "dependent_system") ?? defaultSystem,
        };
    }

    private static StepTemplate ReadRailsStep(JsonElement step, int index, string template, string? defaultSystem)
    {
        RequireObject(step, index);
        var name = RequiredIdentifier(step, "name", $"step #{index + 1} name");
        TemplateKeys.Check(step, TemplateKeys.RailsStep, template, $"step '{name}'");
        var handler = OptionalString(step, "handler_class")
            ?? throw TaskerException.InvalidArgument($"step '{name}': handler_class is required", "handler_class");
        var dependencies = new List<string>();
        if (OptionalString(step, "depends_on_step") is { } single)
            dependencies.Add(single);
        dependencies.AddRange(StringList(step, "depends_on_steps", name) ?? []);
        var retry = new RetrySettings(OptionalBool(step, "default_retryable") ?? true, OptionalInt(step, "default_retry_limit", name));
        return new StepTemplate(name, OptionalString(step, "description"), CheckHandler(handler, name),
            OptionalObject(step, "handler_config", name), dependencies, CheckRetry(retry, name), CheckTimeout(OptionalInt(step, "timeout_seconds", name), $"step '{name}'"))
        {
            Skippable = OptionalBool(step, "skippable") ?? false,
            DependentSystem = OptionalString(step, "dependent_system") ?? defaultSystem,
        };
    }

    /// <summary>A timeout is a positive number of seconds, at most 7 days (like a lease).</summary>
    private static int? CheckTimeout(int? seconds, string owner) => seconds is null or (> 0 and <= 604_800)
        ? seconds
        : throw TaskerException.InvalidArgument($"{owner}: timeout_seconds must be between 1 and 604800 (7 days), not {seconds}", "timeout_seconds");

    private static DagShape BuildGraph(string template, List<StepTemplate> steps)
    {
        var indexByName = new Dictionary<string, int>(steps.Count, StringComparer.Ordinal);
        var duplicates = new SortedSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
            if (!indexByName.TryAdd(steps[i].Name, i))
                duplicates.Add(steps[i].Name);
        if (duplicates.Count > 0)
            throw new TaskerException(TaskerErrorCode.InvalidDag,
                $"template '{template}' has duplicate step names: {string.Join(", ", duplicates)}",
                new Dictionary<string, string> { ["template"] = template, ["duplicate_steps"] = string.Join(",", duplicates) });

        var unknown = new List<string>();
        var parentsOf = new int[steps.Count][];
        for (var i = 0; i < steps.Count; i++)
        {
            var parents = new List<int>(steps[i].Dependencies.Count);
            foreach (var dependency in steps[i].Dependencies)
            {
                if (!indexByName.TryGetValue(dependency, out var parent))
                    unknown.Add($"'{steps[i].Name}' depends on unknown step '{dependency}'");
                else if (!parents.Contains(parent))
                    parents.Add(parent);
            }
            parentsOf[i] = [.. parents];
        }
        if (unknown.Count > 0)
            throw new TaskerException(TaskerErrorCode.InvalidDag,
                $"template '{template}': {string.Join("; ", unknown)}",
                new Dictionary<string, string> { ["template"] = template, ["unknown_dependencies"] = string.Join("; ", unknown) });

        var graph = DagShape.FromParents(parentsOf);
        if (graph.FindCycle() is { } cycle)
        {
            var path = string.Join(" -> ", cycle.Select(i => steps[i].Name));
            throw new TaskerException(TaskerErrorCode.InvalidDag, $"template '{template}' has a dependency cycle: {path}",
                new Dictionary<string, string> { ["template"] = template, ["cycle"] = path });
        }
        return graph;
    }

    private static RetrySettings CheckRetry(RetrySettings retry, string step)
    {
        if (retry.MaxAttempts is < 1 or > 1000)
            throw TaskerException.InvalidArgument($"step '{step}': max_attempts must be between 1 and 1000", "max_attempts");
        if (retry.BackoffBaseSeconds is < 0 || retry.MaxBackoffSeconds is < 0)
            throw TaskerException.InvalidArgument($"step '{step}': backoff seconds must not be negative", "retry");
        return retry;
    }

    private static string CheckHandler(string handler, string step)
    {
        if (handler.Length is 0 or > 256 || handler.Any(char.IsControl))
            throw TaskerException.InvalidArgument($"step '{step}': handler name must be 1-256 printable characters", "handler");
        return handler;
    }

    private static void RequireObject(JsonElement step, int index)
    {
        if (step.ValueKind != JsonValueKind.Object)
            throw TaskerException.InvalidArgument($"step #{index + 1} must be a mapping", "steps");
    }

    /// <summary>Template names may contain '/', as Rails Tasker's do (<c>api_task/integration_yaml_example</c>).</summary>
    private static string RequiredName(JsonElement root)
    {
        var value = OptionalString(root, "name") ?? throw TaskerException.InvalidArgument("template name is required", "name");
        if (!NamePattern().IsMatch(value))
            throw TaskerException.InvalidArgument(
                $"name '{Truncate(value)}' must be 1-128 characters of letters, digits, '_', '-', '.', ':' or '/'", "name");
        return value;
    }

    private static string RequiredIdentifier(JsonElement obj, string field, string what)
    {
        var value = OptionalString(obj, field) ?? throw TaskerException.InvalidArgument($"{what} is required", field);
        CheckIdentifier(value, field);
        return value;
    }

    private static void CheckIdentifier(string value, string field)
    {
        if (!IdentifierPattern().IsMatch(value))
            throw TaskerException.InvalidArgument(
                $"{field} '{Truncate(value)}' must be 1-128 characters of letters, digits, '_', '-', '.' or ':'", field);
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "...";

    private static string? OptionalString(JsonElement obj, string field) =>
        obj.TryGetProperty(field, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.Null => null,
            _ => throw TaskerException.InvalidArgument($"{field} must be a string", field),
        } : null;

    private static bool? OptionalBool(JsonElement obj, string field) =>
        obj.TryGetProperty(field, out var v) ? v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => null,
            _ => throw TaskerException.InvalidArgument($"{field} must be true or false", field),
        } : null;

    private static int? OptionalInt(JsonElement obj, string field, string step) =>
        obj.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null
            ? v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i
                : throw TaskerException.InvalidArgument($"step '{step}': {field} must be an integer", field)
            : null;

    private static double? OptionalNumber(JsonElement obj, string field, string step) =>
        obj.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null
            ? v.ValueKind == JsonValueKind.Number ? v.GetDouble()
                : throw TaskerException.InvalidArgument($"step '{step}': {field} must be a number", field)
            : null;

    private static JsonElement? OptionalObject(JsonElement obj, string field, string step) =>
        obj.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null
            ? v.ValueKind == JsonValueKind.Object ? v.Clone()
                : throw TaskerException.InvalidArgument($"step '{step}': {field} must be a mapping", field)
            : null;

    private static List<string>? StringList(JsonElement obj, string field, string step)
    {
        if (!obj.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array)
            throw TaskerException.InvalidArgument($"step '{step}': {field} must be a list of step names", field);
        var list = new List<string>(v.GetArrayLength());
        foreach (var item in v.EnumerateArray())
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()!
                : throw TaskerException.InvalidArgument($"step '{step}': {field} must contain step names", field));
        return list;
    }

    [GeneratedRegex(@"^[A-Za-z0-9_.:\-]{1,128}$")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex(@"^(?!/)(?!.*//)[A-Za-z0-9_.:/\-]{1,128}(?<!/)$")]
    private static partial Regex NamePattern();
}
