using System.Text.Json;
using Tasker.Core;

namespace Tasker.Native.Wire;

/// <summary>Typed access to request fields, with errors that name the field. Unknown fields are ignored.</summary>
internal static class WireReader
{
    public static void RequireObject(JsonElement json, string what)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw TaskerException.InvalidArgument($"{what} must be a JSON object", what);
    }

    public static JsonElement? Field(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static string? String(JsonElement obj, string name) => Field(obj, name) is { } v
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw TaskerException.InvalidArgument($"{name} must be a string", name)
        : null;

    public static string RequiredString(JsonElement obj, string name) =>
        String(obj, name) ?? throw TaskerException.InvalidArgument($"{name} is required", name);

    public static Guid RequiredUuid(JsonElement obj, string name) =>
        Guid.TryParse(RequiredString(obj, name), out var uuid) ? uuid : throw TaskerException.InvalidArgument($"{name} is not a uuid", name);

    public static bool? Bool(JsonElement obj, string name) => Field(obj, name) is { } v
        ? v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw TaskerException.InvalidArgument($"{name} must be true or false", name),
        }
        : null;

    public static int? Int(JsonElement obj, string name) => Field(obj, name) is { } v
        ? v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw TaskerException.InvalidArgument($"{name} must be an integer", name)
        : null;

    public static double? Number(JsonElement obj, string name) => Field(obj, name) is { } v
        ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw TaskerException.InvalidArgument($"{name} must be a number", name)
        : null;

    public static TimeSpan? Seconds(JsonElement obj, string name) => Number(obj, name) is { } s
        ? s is > 0 and <= 604_800 ? TimeSpan.FromSeconds(s) : throw TaskerException.InvalidArgument($"{name} must be more than 0 and at most 604800 (7 days)", name)
        : null;

    public static IReadOnlyList<string> Strings(JsonElement obj, string name)
    {
        if (Field(obj, name) is not { } v) return [];
        if (v.ValueKind != JsonValueKind.Array) throw TaskerException.InvalidArgument($"{name} must be a list of strings", name);
        var list = new List<string>(v.GetArrayLength());
        foreach (var item in v.EnumerateArray())
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText());
        return list;
    }
}
