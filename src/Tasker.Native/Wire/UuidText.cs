using System.Text.Json;

namespace Tasker.Native.Wire;

/// <summary>
/// Writes a uuid as its usual lowercase 8-4-4-4-12 text, formatted here with a table and copied into the writer as a
/// raw value: the writer's own Guid formatting (a vector shuffle this build does not inline) was about 6 % of a
/// step's time through the ABI, with three or four uuids in every answer.
/// </summary>
internal static class UuidText
{
    private const int Length = 38; // 36 characters and the quotes

    public static void Write(Utf8JsonWriter w, JsonEncodedText name, Guid uuid)
    {
        Span<byte> text = stackalloc byte[Length];
        Format(uuid, text);
        w.WritePropertyName(name);
        w.WriteRawValue(text, skipInputValidation: true);
    }

    public static void WriteValue(Utf8JsonWriter w, Guid uuid)
    {
        Span<byte> text = stackalloc byte[Length];
        Format(uuid, text);
        w.WriteRawValue(text, skipInputValidation: true);
    }

    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    private static void Format(Guid uuid, Span<byte> text)
    {
        Span<byte> bytes = stackalloc byte[16];
        uuid.TryWriteBytes(bytes, bigEndian: true, out _);
        text[0] = (byte)'"';
        var at = 1;
        for (var i = 0; i < 16; i++)
        {
            if (i is 4 or 6 or 8 or 10) text[at++] = (byte)'-';
            text[at++] = Hex[bytes[i] >> 4];
            text[at++] = Hex[bytes[i] & 0xF];
        }
        text[at] = (byte)'"';
    }
}
