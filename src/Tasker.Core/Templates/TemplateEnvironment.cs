using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Tasker.Core.Templates;

/// <summary>
/// Resolves a template's <c>environments:</c> section the way Rails Tasker does: the entry for the engine's
/// environment names steps whose settings are deep-merged over the base steps (mappings merge key by key, anything
/// else replaces). Then <c>${VAR}</c> placeholders in handler configuration are filled from the process environment.
/// A missing variable is an error naming it and where it is used; a value never appears in an error or a log.
/// </summary>
internal static partial class TemplateEnvironment
{
    public static JsonElement Apply(JsonElement root, string template, TemplateParseOptions options, out string? applied)
    {
        applied = null;
        var hasEnvironments = root.TryGetProperty("environments", out var environments) && environments.ValueKind != JsonValueKind.Null;
        var rails = root.TryGetProperty("step_templates", out _);
        var listKey = rails ? "step_templates" : "steps";
        var configPath = rails ? "handler_config" : "handler.initialization";
        if (hasEnvironments)
            CheckEnvironments(root, environments, template, listKey, rails);
        if (!hasEnvironments && (!options.ResolvePlaceholders || !ContainsPlaceholder(root)))
            return root; // the common case: nothing to resolve, no copy

        var node = JsonNode.Parse(root.GetRawText())!.AsObject();
        node.Remove("environments");
        if (hasEnvironments && options.Environment is { } env && environments.TryGetProperty(env, out var overlay)
            && overlay.ValueKind == JsonValueKind.Object && overlay.TryGetProperty(listKey, out var overrides)
            && overrides.ValueKind == JsonValueKind.Array)
        {
            applied = env;
            var steps = node[listKey]!.AsArray();
            foreach (var o in overrides.EnumerateArray())
            {
                var name = o.GetProperty("name").GetString();
                var target = steps.OfType<JsonObject>().First(s => s["name"]?.GetValueKind() == JsonValueKind.String && s["name"]!.GetValue<string>() == name);
                Merge(target, JsonNode.Parse(o.GetRawText())!.AsObject());
            }
        }

        if (options.ResolvePlaceholders && node[listKey] is JsonArray list)
        {
            var index = 0;
            foreach (var step in list)
            {
                var owner = rails ? step as JsonObject : step?["handler"] as JsonObject;
                var key = rails ? "handler_config" : "initialization";
                if (owner?[key] is { } config && Fill(config, $"{listKey}[{index}].{configPath}", template, applied, options.Variables) is { } replaced)
                    owner[key] = replaced;
                index++;
            }
        }
        return JsonValues.Parse(node.ToJsonString(), "template");
    }

    private static void CheckEnvironments(JsonElement root, JsonElement environments, string template, string listKey, bool rails)
    {
        if (environments.ValueKind != JsonValueKind.Object)
            throw TaskerException.InvalidArgument($"template '{template}': environments must be a mapping of environment name to overrides", "environments");
        var baseNames = new HashSet<string>(StringComparer.Ordinal);
        if (root.TryGetProperty(listKey, out var baseSteps) && baseSteps.ValueKind == JsonValueKind.Array)
            foreach (var s in baseSteps.EnumerateArray())
                if (s.ValueKind == JsonValueKind.Object && s.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
                    baseNames.Add(n.GetString()!);

        foreach (var env in environments.EnumerateObject())
        {
            var where = $"environments.{env.Name}";
            if (env.Value.ValueKind == JsonValueKind.Null) continue;
            if (env.Value.ValueKind != JsonValueKind.Object)
                throw TaskerException.InvalidArgument($"template '{template}': {where} must be a mapping", "environments");
            TemplateKeys.Check(env.Value, [listKey], template, where);
            if (!env.Value.TryGetProperty(listKey, out var overrides) || overrides.ValueKind == JsonValueKind.Null) continue;
            if (overrides.ValueKind != JsonValueKind.Array)
                throw TaskerException.InvalidArgument($"template '{template}': {where}.{listKey} must be a list of steps", "environments");
            var i = 0;
            foreach (var o in overrides.EnumerateArray())
            {
                var at = $"{where}.{listKey}[{i++}]";
                if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                    throw TaskerException.InvalidArgument($"template '{template}': {at} must be a mapping with the name of the step it overrides", "environments");
                TemplateKeys.Check(o, rails ? TemplateKeys.RailsStep : TemplateKeys.CoreStep, template, at);
                if (!baseNames.Contains(name.GetString()!))
                    throw TaskerException.InvalidArgument(
                        $"template '{template}': {at} overrides step '{name.GetString()}', which the template does not declare", "environments");
            }
        }
    }

    /// <summary>Deep merge: mappings merge key by key; lists and scalars replace.</summary>
    private static void Merge(JsonObject target, JsonObject overlay)
    {
        foreach (var (key, value) in overlay.ToList())
        {
            overlay.Remove(key);
            if (target[key] is JsonObject existing && value is JsonObject nested)
                Merge(existing, nested);
            else
                target[key] = value;
        }
    }

    /// <summary>Fills placeholders below <paramref name="node"/>; returns the replacement for a string that had one.</summary>
    private static JsonNode? Fill(JsonNode node, string path, string template, string? environment, Func<string, string?> variables)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                    if (child is not null && Fill(child, $"{path}.{key}", template, environment, variables) is { } replaced)
                        obj[key] = replaced;
                return null;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                    if (array[i] is { } child && Fill(child, $"{path}[{i}]", template, environment, variables) is { } replaced)
                        array[i] = replaced;
                return null;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                var text = value.GetValue<string>();
                if (!text.Contains("${", StringComparison.Ordinal)) return null;
                return JsonValue.Create(Placeholder().Replace(text, m =>
                {
                    if (m.Groups[1].Success) return "${"; // $${X} is a literal ${X}
                    var name = m.Groups[2].Value;
                    return variables(name) ?? throw Missing(name, path, template, environment);
                }));
            default:
                return null;
        }
    }

    private static TaskerException Missing(string variable, string path, string template, string? environment) =>
        new(TaskerErrorCode.InvalidArgument,
            $"template '{template}'{(environment is null ? "" : $" (environment '{environment}')")}: environment variable {variable} is not set (used in {path})",
            new Dictionary<string, string> { ["field"] = path, ["variable"] = variable, ["template"] = template });

    private static bool ContainsPlaceholder(JsonElement root) => root.GetRawText().Contains("${", StringComparison.Ordinal);

    [GeneratedRegex(@"(\$\$\{)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Placeholder();
}
