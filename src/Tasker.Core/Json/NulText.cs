using System.Runtime.InteropServices;
using System.Text.Json;

namespace Tasker.Core;

/// <summary>
/// U+0000 has no place in stored text: PostgreSQL refuses it in <c>text</c> (22021) and in <c>jsonb</c> strings (22P05),
/// which used to surface as a DATABASE error that hosts are told to repeat forever. Both stores apply the same rule
/// here instead: identifiers, filters and JSON values with a NUL are an INVALID_ARGUMENT naming the field; free text
/// from a handler's failure is kept with the NUL replaced, because a failure report must never be refused.
/// </summary>
public static class NulText
{
    private const char Replacement = '\uFFFD';

    /// <summary>Throws INVALID_ARGUMENT naming <paramref name="field"/> when the text contains U+0000.</summary>
    public static string? Refuse(string? value, string field)
    {
        if (value is not null && value.Contains('\0'))
            throw TaskerException.InvalidArgument($"{field} contains a NUL character (U+0000), which cannot be stored", field);
        return value;
    }

    /// <summary>Throws INVALID_ARGUMENT naming <paramref name="field"/> when a string or key of the JSON value holds U+0000.</summary>
    public static void Refuse(JsonElement? value, string field)
    {
        if (value is { } json && HasNulEscape(JsonMarshal.GetRawUtf8Value(json)))
            throw TaskerException.InvalidArgument($"{field} contains a NUL character (\\u0000), which cannot be stored", field);
    }

    /// <summary>The text with every U+0000 replaced by U+FFFD.</summary>
    public static string Replace(string value) => value.Contains('\0') ? value.Replace('\0', Replacement) : value;

    /// <summary>
    /// True when the raw JSON holds the escape <c>\u0000</c> (a raw NUL byte is not valid JSON, so this is the only
    /// spelling). A backslash preceded by an odd number of backslashes is itself escaped and starts nothing.
    /// </summary>
    private static bool HasNulEscape(ReadOnlySpan<byte> json)
    {
        var at = 0;
        while (true)
        {
            var found = json[at..].IndexOf("\\u0000"u8);
            if (found < 0) return false;
            var slash = at + found;
            var preceding = 0;
            while (slash - preceding - 1 >= 0 && json[slash - preceding - 1] == (byte)'\\') preceding++;
            if (preceding % 2 == 0) return true;
            at = slash + 1;
        }
    }
}
