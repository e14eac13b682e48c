using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Sql;
using Tasker.Postgres.Tasks;

namespace Tasker.Postgres.Work;

/// <summary>
/// A work claim whose commit was sent and whose reply never came (the connection broke on the way back): its writes,
/// and the answer the claim would have given; the engine's claims on those tasks are already made. The claim's next
/// attempt settles it before anything else.
/// If the writes landed, the claim hands out what that first attempt claimed: its steps are in progress under its
/// tokens, and nobody else would run them before their leases expire, an attempt spent for nothing. If they did not,
/// the claim runs again from the start. One commit carried every write, so they landed together or not at all; each
/// is still checked on its own (<see cref="TaskSql.WritesLanded"/>), and one not found is not handed out.
/// </summary>
internal sealed class ClaimInDoubt(IReadOnlyList<TaskWrite> writes, WorkFound answer)
{
    public IReadOnlyList<TaskWrite> Writes { get; } = writes;

    /// <summary>What the claim answers if every write landed.</summary>
    public WorkFound Answer { get; } = answer;

    /// <summary>
    /// The tasks whose write committed, each with its request columns and whether the write is still the row's last
    /// (a later one, say an operator's cancel, makes this copy stale for the task cache); one round trip.
    /// </summary>
    public async ValueTask<Dictionary<Guid, (AnnouncedRequest Request, bool Current)>> LandedAsync(NpgsqlConnection connection, StoreCounters counters,
        CancellationToken cancellationToken)
    {
        var tasks = new Guid[Writes.Count];
        var ordinals = new int[Writes.Count];
        var transitions = new Guid[Writes.Count];
        var stamps = new Guid[Writes.Count];
        for (var i = 0; i < Writes.Count; i++)
        {
            var write = Writes[i];
            tasks[i] = write.Task.Uuid;
            // Ordinals start at 1: a write without transition rows looks for none, and is proven by its stamp alone.
            (ordinals[i], transitions[i]) = write.Transitions.First ?? (0, Guid.Empty);
            stamps[i] = write.WriteUuid;
        }
        await using var command = new NpgsqlCommand(TaskSql.WritesLanded, connection);
        command.Parameters.Add(Parameters.Array(tasks));
        command.Parameters.Add(Parameters.Array(ordinals));
        command.Parameters.Add(Parameters.Array(transitions));
        command.Parameters.Add(Parameters.Array(stamps));
        counters.RoundTrip(1);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var landed = new Dictionary<Guid, (AnnouncedRequest, bool)>(Writes.Count);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var (uuid, request) = AnnouncedRequest.Read(reader);
            landed[uuid] = (request, reader.GetBoolean(reader.FieldCount - 1));
        }
        return landed;
    }
}
