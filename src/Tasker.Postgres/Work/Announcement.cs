using System.Buffers;
using System.Text.Json;
using Tasker.Core;
using Tasker.Postgres.Tasks;

namespace Tasker.Postgres.Work;

/// <summary>
/// A created task, carried by the NOTIFY its own insert sends (<see cref="Sql.TaskSql.Create"/>), so that a worker
/// waiting for work can claim it in one round trip: the engine claims on this copy and the write's compare-and-set on
/// <c>row_version</c> proves the copy current (<see cref="WorkQueue"/>). Without it a waiting worker first finds the
/// task (a round trip), then writes its claim (another).
/// <para>
/// The payload is <c>{"r": ..., "c": context}</c>: <c>r</c> is written here from the task as inserted (its header, its
/// definition key, and each step's uuid and creation state), <c>c</c> is added by the insert from the stored jsonb, so
/// that the handler sees the context exactly as every read returns it. Step definitions come from the worker's shape
/// cache. A payload PostgreSQL cannot carry (8,000 bytes and more) is left empty and the task is found as before.
/// </para>
/// </summary>
internal static class Announcement
{
    /// <summary>The <c>r</c> part: the created task's columns, timestamps cut to the database's microseconds.</summary>
    public static string Write(WorkflowTask task, string definitionKey, int transitionCount)
    {
        var h = task.Header;
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("u", h.Uuid);
            w.WriteString("ns", h.Namespace);
            w.WriteString("n", h.Name);
            w.WriteString("v", h.Version);
            w.WriteString("s", h.State.ToWire());
            w.WriteStartArray("tags");
            foreach (var tag in h.Tags) w.WriteStringValue(tag);
            w.WriteEndArray();
            w.WriteNumber("p", h.Priority);
            Text(w, "ini", h.Initiator);
            Text(w, "src", h.SourceSystem);
            Text(w, "why", h.Reason);
            Text(w, "cor", h.CorrelationId);
            Text(w, "idk", h.IdempotencyKey);
            Text(w, "id", h.Identity);
            w.WriteBoolean("ff", h.FailFast);
            Time(w, "ca", h.CreatedAt);
            Time(w, "ua", h.UpdatedAt);
            Time(w, "fa", h.FinishedAt);
            Text(w, "tp", h.TraceParent);
            Time(w, "ra", h.RequestedAt);
            if (h.TimeoutSeconds is { } timeout) w.WriteNumber("to", timeout);
            w.WriteString("dk", definitionKey);
            w.WriteNumber("tc", transitionCount);
            w.WriteStartArray("steps");
            foreach (var s in task.Steps)
            {
                w.WriteStartObject();
                w.WriteNumber("i", s.Index);
                w.WriteString("u", s.Uuid);
                w.WriteString("s", s.State.ToWire());
                w.WriteNumber("a", s.Attempts);
                if (s.Metadata is { } metadata)
                {
                    w.WritePropertyName("m");
                    w.WriteRawValue(metadata.GetRawText(), skipInputValidation: true); // as the insert stores it (json, verbatim)
                }
                Time(w, "fa", s.FinishedAt);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// The task a payload carries, as a freshly loaded row (row version 0), or null: an empty payload (too big, or an
    /// announcement of another change), or one this version cannot read (a process on another library version during a
    /// rolling upgrade): such tasks are found by the next find instead.
    /// </summary>
    public static TaskRow? Read(string payload)
    {
        if (payload.Length == 0) return null;
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            var r = root.GetProperty("r");
            var header = new TaskHeader
            {
                Uuid = r.GetProperty("u").GetGuid(),
                Namespace = Required(r, "ns"),
                Name = Required(r, "n"),
                Version = Required(r, "v"),
                State = StateNames.ParseTaskState(Required(r, "s")),
                Context = root.GetProperty("c").Clone(),
                Tags = [.. r.GetProperty("tags").EnumerateArray().Select(t => t.GetString() ?? throw new FormatException("a null tag"))],
                Priority = r.GetProperty("p").GetInt32(),
                Initiator = Text(r, "ini"),
                SourceSystem = Text(r, "src"),
                Reason = Text(r, "why"),
                CorrelationId = Text(r, "cor"),
                IdempotencyKey = Text(r, "idk"),
                Identity = Text(r, "id"),
                FailFast = r.GetProperty("ff").GetBoolean(),
                CreatedAt = Time(r, "ca")!.Value,
                UpdatedAt = Time(r, "ua")!.Value,
                FinishedAt = Time(r, "fa"),
                TraceParent = Text(r, "tp"),
                RequestedAt = Time(r, "ra"),
                TimeoutSeconds = r.TryGetProperty("to", out var to) ? to.GetInt32() : null,
            };
            var steps = r.GetProperty("steps");
            var count = steps.GetArrayLength();
            var created = new TaskRow.CreatedStep[count];
            var seen = new bool[count];
            var n = 0;
            foreach (var s in steps.EnumerateArray())
            {
                var index = s.GetProperty("i").GetInt32();
                // Each index once, 0 to count - 1: what a shape of as many steps can build.
                if (index < 0 || index >= count || seen[index]) throw new FormatException("step indexes are not 0 to n - 1");
                seen[index] = true;
                var state = Required(s, "s");
                StateNames.ParseStepState(state); // refuses a state this version does not know
                created[n++] = new TaskRow.CreatedStep(index, s.GetProperty("u").GetGuid(), state, s.GetProperty("a").GetInt32(),
                    s.TryGetProperty("m", out var m) ? m.GetRawText() : null, Time(s, "fa")?.UtcDateTime);
            }
            return TaskRow.Created(header, Required(r, "dk"), r.GetProperty("tc").GetInt32(), created);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException
                                      or ArgumentException or TaskerException)
        {
            return null;
        }
    }

    private static void Text(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }

    private static void Time(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v) w.WriteNumber(name, v.UtcTicks - v.UtcTicks % 10); // microseconds, as stored
    }

    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;

    private static string Required(JsonElement e, string name) =>
        e.GetProperty(name).GetString() ?? throw new FormatException($"{name} is null");

    private static DateTimeOffset? Time(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? new DateTimeOffset(v.GetInt64(), TimeSpan.Zero) : null;
}
