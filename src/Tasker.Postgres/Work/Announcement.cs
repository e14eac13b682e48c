using System.Buffers;
using System.Text.Json;
using Tasker.Core;
using Tasker.Postgres.Tasks;

namespace Tasker.Postgres.Work;

/// <summary>
/// A created task, carried by the NOTIFY its own insert sends (<see cref="Sql.TaskSql.Create"/>), so that a worker
/// waiting for work can claim it in one round trip: the engine claims on this copy, and the claim's write
/// (<see cref="Sql.TaskSql.WriteOneAnnounced"/>) checks the copy against the task's rows and returns the rest of the
/// task with it (<see cref="AnnouncedRequest"/>). Without it a waiting worker first finds the task (a round trip),
/// then writes its claim (another).
/// <para>
/// PostgreSQL checks no privilege for LISTEN or NOTIFY: any role that can connect may read an announcement, or send
/// one. So it carries no request data (no context, tags, initiator, reason, correlation id, idempotency key, identity
/// or trace context), only what the engine decides a claim on: the task's uuid, template, priority, deadline, definition
/// key and transition count, and each step's uuid and index. Only a task whose steps are all pending is announced with
/// its task (a step bypassed at creation: an empty payload, found as before). Step definitions come from the worker's
/// shape cache for the definition key. A payload PostgreSQL cannot carry (8,000 bytes and more) is left empty.
/// </para>
/// </summary>
internal static class Announcement
{
    /// <summary>The payload for a created task, timestamps cut to the database's microseconds; null when it cannot carry it.</summary>
    public static string? Write(WorkflowTask task, string definitionKey, int transitionCount)
    {
        var h = task.Header;
        if (h.State != TaskState.Pending) return null;
        for (var i = 0; i < task.Steps.Count; i++)
            if (task.Steps[i] is not { State: StepState.Pending, Attempts: 0 } s || s.Index != i) return null;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("u", h.Uuid);
            w.WriteString("ns", h.Namespace);
            w.WriteString("n", h.Name);
            w.WriteString("v", h.Version);
            w.WriteNumber("p", h.Priority);
            w.WriteBoolean("ff", h.FailFast);
            Time(w, "ca", h.CreatedAt); // updated_at is the same at creation
            Time(w, "ra", h.RequestedAt);
            if (h.TimeoutSeconds is { } timeout) w.WriteNumber("to", timeout);
            w.WriteString("dk", definitionKey);
            w.WriteNumber("tc", transitionCount);
            w.WriteStartArray("steps"); // in index order
            foreach (var s in task.Steps) w.WriteStringValue(s.Uuid);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// The task a payload announces, as a load would return it right after the insert (row version 0, every step
    /// pending), but without its request fields (an empty context, no tags) until its claim's write returns them; or
    /// null: an empty payload (too big, or an announcement of another change), or one this version cannot read (another
    /// library version's during a rolling upgrade, or not ours at all): such tasks are found by the next find instead.
    /// </summary>
    public static TaskRow? Read(string payload)
    {
        if (payload.Length == 0) return null;
        try
        {
            using var document = JsonDocument.Parse(payload);
            var r = document.RootElement;
            var createdAt = Time(r, "ca") ?? throw new FormatException("no creation time");
            var header = new TaskHeader
            {
                Uuid = r.GetProperty("u").GetGuid(),
                Namespace = Required(r, "ns"),
                Name = Required(r, "n"),
                Version = Required(r, "v"),
                State = TaskState.Pending,
                Context = JsonValues.EmptyObject,
                Priority = r.GetProperty("p").GetInt32(),
                FailFast = r.GetProperty("ff").GetBoolean(),
                CreatedAt = createdAt,
                UpdatedAt = createdAt,
                RequestedAt = Time(r, "ra"),
                TimeoutSeconds = r.TryGetProperty("to", out var to) ? to.GetInt32() : null,
            };
            if (header.TimeoutSeconds is < 0) throw new FormatException("a negative timeout");
            var steps = r.GetProperty("steps");
            var created = new TaskRow.CreatedStep[steps.GetArrayLength()];
            var index = 0;
            foreach (var s in steps.EnumerateArray())
            {
                created[index] = new TaskRow.CreatedStep(index, s.GetGuid(), StepState.Pending.ToWire(), 0, null, null);
                index++;
            }
            return TaskRow.Created(header, Required(r, "dk"), r.GetProperty("tc").GetInt32(), created);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException
                                      or ArgumentException or TaskerException)
        {
            return null;
        }
    }

    private static void Time(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v) w.WriteNumber(name, v.UtcTicks - v.UtcTicks % 10); // microseconds, as stored
    }

    /// <summary>A text the database could store (no NUL), or the payload is not one of ours.</summary>
    private static string Required(JsonElement e, string name) =>
        e.GetProperty(name).GetString() is { } text && !text.Contains('\0') ? text : throw new FormatException($"{name} is null or not text");

    /// <summary>An instant the engine can compute deadlines from (years 2000 to 9000), or the payload is not one of ours.</summary>
    private static DateTimeOffset? Time(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var v) ? null
        : v.GetInt64() is var ticks && ticks >= EarliestTicks && ticks <= LatestTicks ? new DateTimeOffset(ticks, TimeSpan.Zero)
        : throw new FormatException($"{name} is out of range");

    private static readonly long EarliestTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
    private static readonly long LatestTicks = new DateTime(9000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
}
