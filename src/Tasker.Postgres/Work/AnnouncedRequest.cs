using Npgsql;
using Tasker.Core;

namespace Tasker.Postgres.Work;

/// <summary>
/// What an announcement leaves out of a task (<see cref="Announcement"/>): its request fields, returned by the write of
/// its claim (<see cref="Sql.TaskSql.WriteOneAnnounced"/>) and put into the claimed task's header before anyone sees it.
/// </summary>
internal sealed record AnnouncedRequest(string Context, string[] Tags, string? Initiator, string? SourceSystem, string? Reason,
    string? CorrelationId, string? IdempotencyKey, string? Identity, string? TraceParent)
{
    /// <summary>One row of the write's answer: the task's uuid, then its request columns.</summary>
    public static (Guid TaskUuid, AnnouncedRequest Request) Read(NpgsqlDataReader r) => (r.GetGuid(0), new AnnouncedRequest(
        r.GetString(1), r.GetFieldValue<string[]>(2), Text(r, 3), Text(r, 4), Text(r, 5), Text(r, 6), Text(r, 7), Text(r, 8), Text(r, 9)));

    /// <summary>The header of a task claimed from its announcement (<paramref name="claimed"/>, as the claim left it), completed.</summary>
    public TaskHeader Complete(TaskHeader claimed) => new()
    {
        Uuid = claimed.Uuid,
        Namespace = claimed.Namespace,
        Name = claimed.Name,
        Version = claimed.Version,
        State = claimed.State,
        Context = JsonValues.Parse(Context, "context"),
        Tags = Tags,
        Priority = claimed.Priority,
        Initiator = Initiator,
        SourceSystem = SourceSystem,
        Reason = Reason,
        CorrelationId = CorrelationId,
        IdempotencyKey = IdempotencyKey,
        Identity = Identity,
        FailFast = claimed.FailFast,
        TimeoutSeconds = claimed.TimeoutSeconds,
        TraceParent = TraceParent,
        CreatedAt = claimed.CreatedAt,
        RequestedAt = claimed.RequestedAt,
        UpdatedAt = claimed.UpdatedAt,
        FinishedAt = claimed.FinishedAt,
    };

    private static string? Text(NpgsqlDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetString(ordinal);
}
