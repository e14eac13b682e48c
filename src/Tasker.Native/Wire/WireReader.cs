using System.Text;
using System.Text.Json;
using Tasker.Core;

namespace Tasker.Native.Wire;

/// <summary>
/// Typed access to request fields, with errors that name the field. Unknown fields are ignored. Field names are
/// UTF-8 literals (<c>"task_uuid"u8</c>): the lookup compares bytes, with no transcoding per call.
/// </summary>
internal static class WireReader
{
    public static void RequireObject(JsonElement json, string what)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw TaskerException.InvalidArgument($"{what} must be a JSON object", what);
    }

    public static JsonElement? Field(JsonElement obj, ReadOnlySpan<byte> name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>
    /// A field the engine keeps after the call (a context, a result): a copy that owns its memory, because the
    /// request document is pooled and released when the call returns. Null when absent or null.
    /// </summary>
    public static JsonElement? Kept(JsonElement obj, ReadOnlySpan<byte> name) => Field(obj, name)?.Clone();

    public static string? String(JsonElement obj, ReadOnlySpan<byte> name) => Field(obj, name) is { } v
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw TaskerException.InvalidArgument($"{Text(name)} must be a string", Text(name))
        : null;

    public static string RequiredString(JsonElement obj, ReadOnlySpan<byte> name) =>
        String(obj, name) ?? throw TaskerException.InvalidArgument($"{Text(name)} is required", Text(name));

    /// <summary>A uuid; the usual 8-4-4-4-12 form is read without allocating, other forms Guid accepts still work.</summary>
    public static Guid RequiredUuid(JsonElement obj, ReadOnlySpan<byte> name)
    {
        if (Field(obj, name) is { ValueKind: JsonValueKind.String } v && v.TryGetGuid(out var fast)) return fast;
        return Guid.TryParse(RequiredString(obj, name), out var uuid) ? uuid : throw TaskerException.InvalidArgument($"{Text(name)} is not a uuid", Text(name));
    }

    public static bool? Bool(JsonElement obj, ReadOnlySpan<byte> name) => Field(obj, name) is { } v
        ? v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw TaskerException.InvalidArgument($"{Text(name)} must be true or false", Text(name)),
        }
        : null;

    public static int? Int(JsonElement obj, ReadOnlySpan<byte> name) => Field(obj, name) is { } v
        ? v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw TaskerException.InvalidArgument($"{Text(name)} must be an integer", Text(name))
        : null;

    public static double? Number(JsonElement obj, ReadOnlySpan<byte> name) => Field(obj, name) is { } v
        ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw TaskerException.InvalidArgument($"{Text(name)} must be a number", Text(name))
        : null;

    public static TimeSpan? Seconds(JsonElement obj, ReadOnlySpan<byte> name) => Number(obj, name) is { } s
        ? s is > 0 and <= 604_800 ? TimeSpan.FromSeconds(s) : throw TaskerException.InvalidArgument($"{Text(name)} must be more than 0 and at most 604800 (7 days)", Text(name))
        : null;

    public static IReadOnlyList<string> Strings(JsonElement obj, ReadOnlySpan<byte> name)
    {
        if (Field(obj, name) is not { } v) return [];
        if (v.ValueKind != JsonValueKind.Array) throw TaskerException.InvalidArgument($"{Text(name)} must be a list of strings", Text(name));
        var list = new List<string>(v.GetArrayLength());
        foreach (var item in v.EnumerateArray())
            list.Add(item.ValueKind == JsonValueKind.String
                ? item.GetString()!
                : throw TaskerException.InvalidArgument($"{Text(name)} must be a list of strings (found {item.ValueKind.ToString().ToLowerInvariant()})", Text(name)));
        return list;
    }

    /// <summary>An ISO 8601 / RFC 3339 time with an offset (<c>2026-01-31T10:00:00Z</c>).</summary>
    public static DateTimeOffset? Time(JsonElement obj, ReadOnlySpan<byte> name) => Field(obj, name) is { } v
        ? v.ValueKind == JsonValueKind.String && v.TryGetDateTimeOffset(out var t) ? t
            : throw TaskerException.InvalidArgument($"{Text(name)} must be an ISO 8601 time such as 2026-01-31T10:00:00Z", Text(name))
        : null;

    /// <summary>A field name for an error message (error paths only).</summary>
    private static string Text(ReadOnlySpan<byte> name) => Encoding.UTF8.GetString(name);
}
