using System.Text.Json;

namespace Tasker.Core.Schema;

/// <summary>
/// Validates a task context against a template's <c>input_schema</c>. Supports the JSON Schema keywords templates
/// use in practice: <c>type</c> (name or list), <c>required</c>, <c>properties</c>, <c>additionalProperties</c>
/// (boolean), <c>items</c>, <c>enum</c>, <c>const</c>, <c>minimum</c>, <c>maximum</c>, <c>minLength</c>,
/// <c>maxLength</c>, <c>minItems</c>, <c>maxItems</c>. Unknown keywords are ignored, as JSON Schema prescribes.
/// </summary>
internal static class InputSchemaValidator
{
    private const int MaxReportedErrors = 10;

    public static void Validate(JsonElement schema, JsonElement context, string template)
    {
        var errors = new List<string>();
        Check(schema, context, "$", errors);
        if (errors.Count > 0)
            throw new TaskerException(TaskerErrorCode.InvalidArgument,
                $"context does not match the input_schema of '{template}': {string.Join("; ", errors)}",
                new Dictionary<string, string> { ["field"] = "context", ["schema_errors"] = string.Join("; ", errors) });
    }

    private static void Check(JsonElement schema, JsonElement value, string path, List<string> errors)
    {
        if (errors.Count >= MaxReportedErrors || schema.ValueKind != JsonValueKind.Object) return;

        if (schema.TryGetProperty("type", out var type) && !MatchesType(type, value))
        {
            errors.Add($"{path} must be {type.GetRawText().Replace("\"", "", StringComparison.Ordinal)}, got {Describe(value)}");
            return;
        }
        if (schema.TryGetProperty("enum", out var options) && options.ValueKind == JsonValueKind.Array
            && !options.EnumerateArray().Any(o => JsonElement.DeepEquals(o, value)))
            errors.Add($"{path} must be one of {options.GetRawText()}");
        if (schema.TryGetProperty("const", out var constant) && !JsonElement.DeepEquals(constant, value))
            errors.Add($"{path} must equal {constant.GetRawText()}");

        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                CheckObject(schema, value, path, errors);
                break;
            case JsonValueKind.Array:
                CheckLength(schema, value.GetArrayLength(), "minItems", "maxItems", "items", path, errors);
                if (schema.TryGetProperty("items", out var items))
                {
                    var i = 0;
                    foreach (var item in value.EnumerateArray())
                        Check(items, item, $"{path}[{i++}]", errors);
                }
                break;
            case JsonValueKind.String:
                CheckLength(schema, value.GetString()!.Length, "minLength", "maxLength", "characters", path, errors);
                break;
            case JsonValueKind.Number:
                var number = value.GetDouble();
                if (schema.TryGetProperty("minimum", out var min) && min.ValueKind == JsonValueKind.Number && number < min.GetDouble())
                    errors.Add($"{path} must be >= {min.GetRawText()}");
                if (schema.TryGetProperty("maximum", out var max) && max.ValueKind == JsonValueKind.Number && number > max.GetDouble())
                    errors.Add($"{path} must be <= {max.GetRawText()}");
                break;
        }
    }

    private static void CheckObject(JsonElement schema, JsonElement value, string path, List<string> errors)
    {
        if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
            foreach (var name in required.EnumerateArray())
                if (name.ValueKind == JsonValueKind.String && !value.TryGetProperty(name.GetString()!, out _))
                    errors.Add($"{path}.{name.GetString()} is required");

        var hasProperties = schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object;
        var closed = schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.False;
        foreach (var property in value.EnumerateObject())
        {
            if (hasProperties && properties.TryGetProperty(property.Name, out var propertySchema))
                Check(propertySchema, property.Value, $"{path}.{property.Name}", errors);
            else if (closed)
                errors.Add($"{path}.{property.Name} is not allowed");
        }
    }

    private static void CheckLength(JsonElement schema, int length, string minKey, string maxKey, string unit, string path, List<string> errors)
    {
        if (schema.TryGetProperty(minKey, out var min) && min.TryGetInt32(out var m) && length < m)
            errors.Add($"{path} must have at least {m} {unit}");
        if (schema.TryGetProperty(maxKey, out var max) && max.TryGetInt32(out var x) && length > x)
            errors.Add($"{path} must have at most {x} {unit}");
    }

    private static bool MatchesType(JsonElement type, JsonElement value) => type.ValueKind switch
    {
        JsonValueKind.String => MatchesType(type.GetString()!, value),
        JsonValueKind.Array => type.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && MatchesType(t.GetString()!, value)),
        _ => true,
    };

    private static bool MatchesType(string type, JsonElement value) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) && decimal.Truncate(d) == d,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => true,
    };

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };
}
