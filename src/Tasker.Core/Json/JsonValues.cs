using System.Text;
using System.Text.Json;

namespace Tasker.Core;

/// <summary>Parsing of untrusted JSON into detached <see cref="JsonElement"/>s, with depth and size limits.</summary>
public static class JsonValues
{
    /// <summary>The largest JSON document (context, result, request) the engine accepts: 64 MiB.</summary>
    public const int MaxDocumentBytes = 64 * 1024 * 1024;

    /// <summary>The deepest nesting accepted; deeper documents are rejected instead of exhausting the stack.</summary>
    public const int MaxDepth = 64;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = MaxDepth };

    public static readonly JsonElement EmptyObject = Parse("{}"u8, "empty object");

    public static readonly JsonElement Null = Parse("null"u8, "null");

    /// <summary>Parses <paramref name="utf8"/> into an element that owns its memory (safe to keep).</summary>
    public static JsonElement Parse(ReadOnlySpan<byte> utf8, string what)
    {
        if (utf8.Length > MaxDocumentBytes)
            throw TaskerException.InvalidArgument($"{what} is {utf8.Length} bytes; the limit is {MaxDocumentBytes}", what);
        JsonElement value;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = MaxDepth });
            value = JsonElement.ParseValue(ref reader);
            // ParseValue stops after one value; anything but whitespace after it makes the document malformed.
            if (reader.Read())
                throw new JsonException("unexpected data after the JSON value", null, 0, reader.BytesConsumed);
        }
        catch (JsonException e)
        {
            throw InvalidJson(utf8, what, e);
        }
        JsonEscapes.RejectLoneSurrogates(utf8, what);
        return value;
    }

    public static JsonElement Parse(string text, string what) => Parse(Encoding.UTF8.GetBytes(text), what);

    internal static JsonDocument ParseDocument(ReadOnlyMemory<byte> utf8, string what)
    {
        if (utf8.Length > MaxDocumentBytes)
            throw TaskerException.InvalidArgument($"{what} is {utf8.Length} bytes; the limit is {MaxDocumentBytes}", what);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, Options);
        }
        catch (JsonException e)
        {
            throw InvalidJson(utf8.Span, what, e);
        }
        try
        {
            JsonEscapes.RejectLoneSurrogates(utf8.Span, what);
        }
        catch
        {
            document.Dispose();
            throw;
        }
        return document;
    }

    private static TaskerException InvalidJson(ReadOnlySpan<byte> utf8, string what, JsonException e)
    {
        var line = ((e.LineNumber ?? 0) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var column = ((e.BytePositionInLine ?? 0) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var details = new Dictionary<string, string> { ["what"] = what, ["line"] = line, ["byte_in_line"] = column };
        // System.Text.Json reports every failure as a JsonException; name the depth limit, the one a caller
        // cannot see by looking at the text, explicitly.
        if (NestsTooDeep(utf8))
        {
            details["max_depth"] = MaxDepth.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return new(TaskerErrorCode.InvalidJson,
                $"{what} nests deeper than {MaxDepth} levels (line {line}, byte {column})", details);
        }
        return new(TaskerErrorCode.InvalidJson, $"{what} is not valid JSON (line {line}, byte {column})", details);
    }

    /// <summary>Error path only: re-reads without the depth limit to learn whether the limit was the failure.</summary>
    private static bool NestsTooDeep(ReadOnlySpan<byte> utf8)
    {
        // The reader keeps its nesting in a bit stack, not on the call stack, so a huge limit is safe.
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = int.MaxValue });
        try
        {
            while (reader.Read())
                if (reader.CurrentDepth >= MaxDepth) return true;
        }
        catch (JsonException)
        {
            // Malformed before getting too deep.
        }
        return false;
    }

    /// <summary>Serializes an element to compact UTF-8 JSON text.</summary>
    public static string ToJson(this JsonElement element) => element.GetRawText();

    /// <summary>
    /// A canonical form (object keys sorted, no whitespace) used to hash task contexts for
    /// <c>identity_strategy: strict</c>: two contexts that differ only in key order are the same task.
    /// </summary>
    public static byte[] Canonicalize(JsonElement element)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            WriteCanonical(writer, element);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    WriteCanonical(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                    WriteCanonical(writer, item);
                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
