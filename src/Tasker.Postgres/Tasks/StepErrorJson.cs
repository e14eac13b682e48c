using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tasker.Core;

namespace Tasker.Postgres.Tasks;

/// <summary>A step's last error as the JSON kept in <c>tasker_workflow_steps.last_error</c> (snake_case, like the wire).</summary>
internal static class StepErrorJson
{
    public static string? Write(StepError? error)
    {
        if (error is null) return null;
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("message", error.Message);
            if (error.ErrorType is not null) w.WriteString("error_type", error.ErrorType);
            w.WriteBoolean("permanent", error.Permanent);
            w.WriteNumber("attempt", error.Attempt);
            w.WriteString("at", error.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            if (error.Backtrace is { } backtrace)
            {
                w.WriteStartArray("backtrace");
                foreach (var frame in backtrace)
                    w.WriteStringValue(frame);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static StepError? Read(string? json)
    {
        if (json is null) return null;
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        List<string>? backtrace = null;
        if (root.TryGetProperty("backtrace", out var frames) && frames.ValueKind == JsonValueKind.Array)
        {
            backtrace = new List<string>(frames.GetArrayLength());
            foreach (var frame in frames.EnumerateArray())
                backtrace.Add(frame.GetString() ?? "");
        }
        return new StepError(
            root.GetProperty("message").GetString() ?? "",
            root.TryGetProperty("error_type", out var type) ? type.GetString() : null,
            root.GetProperty("permanent").GetBoolean(),
            root.GetProperty("attempt").GetInt32(),
            new DateTimeOffset(DateTime.Parse(root.GetProperty("at").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind).ToUniversalTime(), TimeSpan.Zero),
            backtrace);
    }
}
