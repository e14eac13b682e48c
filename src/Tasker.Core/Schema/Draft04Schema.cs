using System.Buffers;
using System.Text.Json;

namespace Tasker.Core.Schema;

/// <summary>
/// Draft-04 schemas (what Rails Tasker's json-schema gem validated) rewritten as draft-07, which JsonSchema.Net
/// evaluates (it has no draft-04 dialect). The two drafts differ in little a template's schema uses: draft-04's
/// boolean <c>exclusiveMinimum</c>/<c>exclusiveMaximum</c> (a flag on <c>minimum</c>/<c>maximum</c>) become draft-07's
/// numeric bound, and <c>$schema</c> is dropped so the caller's draft-07 dialect applies. Every other keyword keeps
/// its meaning; draft-04's <c>id</c> is not translated and is refused as an unknown keyword.
/// </summary>
internal static class Draft04Schema
{
    // Where draft-04 puts schemas: the walk rewrites only there, so a property *named* "default" or "minimum" is
    // still a schema, and the value of "enum", "default" or "required" is copied as the data it is.
    private static readonly HashSet<string> MapsOfSchemas = new(StringComparer.Ordinal) { "properties", "patternProperties", "definitions" };
    private static readonly HashSet<string> ListsOfSchemas = new(StringComparer.Ordinal) { "allOf", "anyOf", "oneOf" };
    private static readonly HashSet<string> Subschemas = new(StringComparer.Ordinal) { "not", "additionalProperties", "additionalItems", "items" };

    public static bool Declares(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$schema", out var declared) && IsDraft04(declared);

    /// <summary>The draft-07 equivalent; <paramref name="problem"/> names a draft-04 form that has none.</summary>
    public static JsonElement ToDraft07(JsonElement schema, out string? problem)
    {
        problem = null;
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            WriteSchema(writer, schema, "$", ref problem);
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static bool IsDraft04(JsonElement declared) =>
        declared.ValueKind == JsonValueKind.String
        && declared.GetString()!.TrimEnd('#') is "http://json-schema.org/draft-04/schema" or "https://json-schema.org/draft-04/schema";

    private static void WriteSchema(Utf8JsonWriter writer, JsonElement node, string path, ref string? problem)
    {
        if (node.ValueKind != JsonValueKind.Object)
        {
            node.WriteTo(writer); // a boolean schema (draft-06+) or something the validator will refuse with its path
            return;
        }
        writer.WriteStartObject();
        foreach (var property in node.EnumerateObject())
        {
            var (name, value) = (property.Name, property.Value);
            // A subschema pasted in from another draft-04 file may declare its draft too; the caller's dialect applies.
            if (name == "$schema" && IsDraft04(value)) continue;
            if (name is "exclusiveMinimum" or "exclusiveMaximum" && value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                WriteExclusive(writer, node, name, value.ValueKind == JsonValueKind.True, path, ref problem);
                continue;
            }
            if (name is "minimum" or "maximum" && IsExclusive(node, name)) continue;
            writer.WritePropertyName(name);
            var at = $"{path}.{name}";
            if (MapsOfSchemas.Contains(name) || name == "dependencies") WriteMap(writer, value, at, ref problem);
            else if (ListsOfSchemas.Contains(name) || (name == "items" && value.ValueKind == JsonValueKind.Array)) WriteList(writer, value, at, ref problem);
            else if (Subschemas.Contains(name)) WriteSchema(writer, value, at, ref problem);
            else value.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    // properties, patternProperties, definitions: every value a schema. dependencies: a schema or a list of names.
    private static void WriteMap(Utf8JsonWriter writer, JsonElement map, string path, ref string? problem)
    {
        if (map.ValueKind != JsonValueKind.Object)
        {
            map.WriteTo(writer);
            return;
        }
        writer.WriteStartObject();
        foreach (var entry in map.EnumerateObject())
        {
            writer.WritePropertyName(entry.Name);
            if (entry.Value.ValueKind == JsonValueKind.Object) WriteSchema(writer, entry.Value, $"{path}.{entry.Name}", ref problem);
            else entry.Value.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    private static void WriteList(Utf8JsonWriter writer, JsonElement list, string path, ref string? problem)
    {
        if (list.ValueKind != JsonValueKind.Array)
        {
            list.WriteTo(writer);
            return;
        }
        writer.WriteStartArray();
        var index = 0;
        foreach (var item in list.EnumerateArray())
            WriteSchema(writer, item, $"{path}[{index++}]", ref problem);
        writer.WriteEndArray();
    }

    // Draft-04 {"minimum": 5, "exclusiveMinimum": true} is draft-07 {"exclusiveMinimum": 5}; false is the default.
    private static void WriteExclusive(Utf8JsonWriter writer, JsonElement node, string name, bool exclusive, string path, ref string? problem)
    {
        if (!exclusive) return;
        var bound = name == "exclusiveMinimum" ? "minimum" : "maximum";
        if (!node.TryGetProperty(bound, out var value) || value.ValueKind != JsonValueKind.Number)
        {
            problem ??= $"{path}: draft-04 \"{name}\": true needs a numeric \"{bound}\" beside it";
            return;
        }
        writer.WritePropertyName(name);
        value.WriteTo(writer);
    }

    private static bool IsExclusive(JsonElement node, string bound) =>
        node.TryGetProperty(bound == "minimum" ? "exclusiveMinimum" : "exclusiveMaximum", out var flag) && flag.ValueKind == JsonValueKind.True;
}
