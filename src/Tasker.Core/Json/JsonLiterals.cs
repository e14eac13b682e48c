using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tasker.Core;

/// <summary>Small JSON values built without reflection-based serialization (AOT-safe).</summary>
internal static class JsonLiterals
{
    public static readonly JsonElement True = JsonValues.Parse("true"u8, "true");

    public static readonly JsonElement False = JsonValues.Parse("false"u8, "false");

    public static JsonElement Number(double value) =>
        JsonValues.Parse(Encoding.UTF8.GetBytes(value.ToString("R", CultureInfo.InvariantCulture)), "number");

    public static JsonElement String(string value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            writer.WriteStringValue(value);
        return JsonValues.Parse(buffer.WrittenSpan, "string");
    }
}
