using System.Buffers;
using System.Text.Json;

namespace Tasker.Core;

/// <summary>
/// JSON allows <c>\uD800</c>-style escapes of lone UTF-16 surrogates, which no UTF-8 text can hold. System.Text.Json
/// parses them but fails later, whenever the string is read or written; such input is refused up front instead,
/// so a stored context or result can always be read back.
/// </summary>
internal static class JsonEscapes
{
    public static void RejectLoneSurrogates(ReadOnlySpan<byte> utf8, string what)
    {
        // Almost all documents have no escapes at all: one vectorized scan and done.
        if (utf8.IndexOf((byte)'\\') < 0) return;

        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = JsonValues.MaxDepth });
        byte[]? scratch = null;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName) || !reader.ValueIsEscaped)
                    continue;
                // Unescaped UTF-8 is never longer than the escaped text.
                var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
                if (scratch is null || scratch.Length < length)
                {
                    if (scratch is not null) ArrayPool<byte>.Shared.Return(scratch);
                    scratch = ArrayPool<byte>.Shared.Rent(length);
                }
                try
                {
                    reader.CopyString(scratch);
                }
                catch (InvalidOperationException)
                {
                    var offset = reader.TokenStartIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    throw new TaskerException(TaskerErrorCode.InvalidJson,
                        $"{what} has a string with an unpaired UTF-16 surrogate escape (such as \\ud800) at byte {offset}; " +
                        "JSON text must encode only whole Unicode characters",
                        new Dictionary<string, string> { ["what"] = what, ["byte_offset"] = offset });
                }
            }
        }
        finally
        {
            if (scratch is not null) ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
