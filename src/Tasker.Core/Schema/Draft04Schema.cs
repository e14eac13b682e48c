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
    // Values of these keywords are data, not schemas: a default of {"exclusiveMinimum": true} stays as written.
    private static readonly HashSet<string> DataKeywords = new(StringComparer.Ordinal) { "enum", "const", "default", "examples" };

    public static bool Declares(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("$schema", out var declared)
            || declared.ValueKind != JsonValueKind.String)
            return false;
        var bare = declared.GetString()!.TrimEnd('#');
        return bare is "http://json-schema.org/draft-04/schema" or "https://json-schema.org/draft-04/schema";
    }

    /// <summary>The draft-07 equivalent; <paramref name="problem"/> names a draft-04 form that has none.</summary>
    public static JsonElement ToDraft07(JsonElement schema, out string? problem)
    {
        problem = null;
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            Write(writer, schema, "$", root: true, ref problem);
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static void Write(Utf8JsonWriter writer, JsonElement node, string path, bool root, ref string? problem)
    {
        switch (node.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in node.EnumerateObject())
                {
                    var name = property.Name;
                    if (root && name == "$schema") continue;
                    if (name is "exclusiveMinimum" or "exclusiveMaximum" && property.Value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        WriteExclusive(writer, node, name, property.Value.ValueKind == JsonValueKind.True, path, ref problem);
                        continue;
                    }
                    if (name is "minimum" or "maximum" && IsExclusive(node, name)) continue;
                    writer.WritePropertyName(name);
                    if (DataKeywords.Contains(name)) property.Value.WriteTo(writer);
                    else Write(writer, property.Value, $"{path}.{name}", root: false, ref problem);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                var index = 0;
                foreach (var item in node.EnumerateArray())
                    Write(writer, item, $"{path}[{index++}]", root: false, ref problem);
                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
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
