using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tasker.Native.Wire;

/// <summary>
/// Names that recur in every answer (namespaces, task and step names, handlers, versions: the template's strings),
/// escaped and encoded to UTF-8 once per thread and then copied, instead of transcoded and scanned for escapes each
/// time. A small direct-mapped cache: a miss (or a collision) encodes the text and takes the slot, so what it holds is
/// bounded; a string equal to a cached one but another instance (as a database store reads them) still hits.
/// </summary>
internal static class RepeatedText
{
    private const int Slots = 64;
    private const int MaxLength = 128; // longer text is written directly: not a name, and not worth keeping

    [ThreadStatic] private static Entry[]? t_cache;

    private struct Entry
    {
        public string? Text;
        public JsonEncodedText Encoded;
    }

    public static void Write(Utf8JsonWriter w, JsonEncodedText name, string value)
    {
        if (value.Length > MaxLength)
        {
            w.WriteString(name, value);
            return;
        }
        w.WriteString(name, Encoded(value));
    }

    public static void WritePropertyName(Utf8JsonWriter w, string name)
    {
        if (name.Length > MaxLength)
        {
            w.WritePropertyName(name);
            return;
        }
        w.WritePropertyName(Encoded(name));
    }

    private static JsonEncodedText Encoded(string value)
    {
        var cache = t_cache ??= new Entry[Slots];
        ref var entry = ref cache[value.GetHashCode() & (Slots - 1)];
        if (!ReferenceEquals(entry.Text, value) && !string.Equals(entry.Text, value, StringComparison.Ordinal))
        {
            // The writer's own escaping (WireOutput), so the bytes are exactly what WriteString would have written.
            entry.Encoded = JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
            entry.Text = value;
        }
        return entry.Encoded;
    }
}
