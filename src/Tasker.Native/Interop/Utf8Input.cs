using System.Text;
using Tasker.Core;

namespace Tasker.Native.Interop;

/// <summary>
/// Borrowed <c>(pointer, length)</c> inputs. The length is authoritative (the core never scans for NUL); bytes
/// must be valid UTF-8; inputs over <see cref="JsonValues.MaxDocumentBytes"/> are refused before being read.
/// </summary>
internal static unsafe class Utf8Input
{
    public static ReadOnlySpan<byte> Span(byte* data, nuint length, string what)
    {
        if (length > (nuint)JsonValues.MaxDocumentBytes)
            throw new TaskerException(TaskerErrorCode.InvalidArgument,
                $"{what} is {length} bytes; the limit is {JsonValues.MaxDocumentBytes}", Field(what));
        if (data == null)
        {
            if (length == 0) return [];
            throw new TaskerException(TaskerErrorCode.InvalidArgument, $"{what} is NULL with a non-zero length", Field(what));
        }
        var span = new ReadOnlySpan<byte>(data, (int)length);
        if (!System.Text.Unicode.Utf8.IsValid(span))
            throw new TaskerException(TaskerErrorCode.InvalidUtf8, $"{what} is not valid UTF-8", Field(what));
        return span;
    }

    public static string String(byte* data, nuint length, string what) => Encoding.UTF8.GetString(Span(data, length, what));

    /// <summary>Parses a JSON input; an empty input is <c>{}</c> when <paramref name="emptyIsObject"/> is set.</summary>
    public static System.Text.Json.JsonElement Json(byte* data, nuint length, string what, bool emptyIsObject = true)
    {
        var span = Span(data, length, what);
        if (span.IsEmpty && emptyIsObject) return JsonValues.EmptyObject;
        return JsonValues.Parse(span, what);
    }

    private static Dictionary<string, string> Field(string what) => new() { ["field"] = what };
}
