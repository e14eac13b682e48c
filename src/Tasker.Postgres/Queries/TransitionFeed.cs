using Npgsql;

namespace Tasker.Postgres.Queries;

/// <summary>One row of the audit trail, task or step, with the task's namespace and name.</summary>
public sealed record TransitionEvent(
    Guid TransitionUuid, Guid TaskUuid, string Namespace, string TaskName, string? StepName, string? FromState,
    string ToState, string Reason, string? Actor, int? Attempt, int Ordinal, DateTimeOffset At);

/// <summary>
/// Reads the audit trail as a feed, for <c>tasker events [--follow]</c>: the transitions recorded after a point in
/// time, oldest first, optionally of one task or one namespace. The cursor is the transition's UUIDv7 (its first 48 bits
/// are the wall-clock millisecond it was made), read through a BRIN index (migration 8): each read asks for a bounded
/// window of keys, which that index finds as the few block ranges it covers, so that a feed far behind does not sort
/// everything after its cursor at each round trip. The window grows while reads come back short and shrinks when
/// they fill up.
/// <para>
/// A transition's key is made just before its write commits, so a row may become visible after rows with later keys.
/// <see cref="ReadAsync"/> therefore reads again from <see cref="Overlap"/> before the newest key seen and skips the
/// rows it already returned: nothing committed within that window is missed (writers' clocks must agree to within
/// it, as leases already require). Self-contained: plain Npgsql on the store's data source, no store state.
/// </para>
/// </summary>
public sealed class TransitionFeed(NpgsqlDataSource dataSource, Guid? taskUuid = null, string? ns = null)
{
    /// <summary>How far back each read looks again for rows that committed late.</summary>
    public static readonly TimeSpan Overlap = TimeSpan.FromSeconds(5);

    /// <summary>Rows read per round trip (a feed that is behind catches up in several).</summary>
    public const int BatchSize = 500;

    private const string Sql = """
        SELECT x.transition_uuid, x.task_uuid, t.namespace, t.name, s.name, x.from_state, x.to_state, x.reason, x.actor,
               x.attempt, x.ordinal, x.created_at
        FROM (SELECT transition_uuid, task_uuid, NULL::uuid AS step_uuid, from_state, to_state, reason, actor,
                     NULL::integer AS attempt, ordinal, created_at
              FROM tasker_task_transitions
              WHERE transition_uuid > $1 AND transition_uuid < $5 AND ($2::uuid IS NULL OR task_uuid = $2)
              UNION ALL
              SELECT transition_uuid, task_uuid, step_uuid, from_state, to_state, reason, actor, attempt, ordinal, created_at
              FROM tasker_workflow_step_transitions
              WHERE transition_uuid > $1 AND transition_uuid < $5 AND ($2::uuid IS NULL OR task_uuid = $2)) x
        JOIN tasker_tasks t ON t.task_uuid = x.task_uuid
        LEFT JOIN tasker_workflow_steps s ON s.step_uuid = x.step_uuid
        WHERE $3::text IS NULL OR t.namespace = $3
        ORDER BY x.transition_uuid
        LIMIT $4
        """;

    /// <summary>The first window of keys a read asks for, and the bounds it adapts within.</summary>
    private static readonly TimeSpan FirstWindow = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinWindow = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaxWindow = TimeSpan.FromDays(1);

    /// <summary>Above every key: the bound of a window that reaches past now.</summary>
    private static readonly Guid Unbounded = new(Enumerable.Repeat((byte)0xFF, 16).ToArray(), bigEndian: true);

    private readonly Dictionary<Guid, DateTimeOffset> _seen = [];
    private DateTimeOffset _newest = DateTimeOffset.MinValue;
    private Guid _after;

    /// <summary>Starts the feed at <paramref name="since"/>: transitions made from then on.</summary>
    public TransitionFeed StartAt(DateTimeOffset since)
    {
        _after = FloorKey(since);
        return this;
    }

    /// <summary>
    /// The transitions recorded since the last read (the first read: since <see cref="StartAt"/>) that this feed has
    /// not returned yet, ordered by time and, within a task, by their place in its history.
    /// </summary>
    public async Task<IReadOnlyList<TransitionEvent>> ReadAsync(CancellationToken cancellationToken = default)
    {
        var all = new List<TransitionEvent>();
        await foreach (var batch in ReadBatchesAsync(cancellationToken).ConfigureAwait(false))
            all.AddRange(batch);
        return [.. all.OrderBy(e => e.At).ThenBy(e => e.TaskUuid).ThenBy(e => e.Ordinal)];
    }

    /// <summary>
    /// <see cref="ReadAsync"/> a round trip at a time (<see cref="BatchSize"/> rows, each batch ordered like it), so a
    /// long range is printed as it is read and the feed keeps only the last <see cref="Overlap"/> of keys in memory.
    /// </summary>
    public async IAsyncEnumerable<IReadOnlyList<TransitionEvent>> ReadBatchesAsync(
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var after = _after;
        var window = FirstWindow;
        while (true)
        {
            // Keys made up to now (writers' clocks within Overlap of ours) may lie past the window's end: then unbounded.
            var end = KeyTime(after) + window;
            var bounded = end < DateTimeOffset.UtcNow - Overlap;
            var batch = await ReadBatchAsync(after, bounded ? FloorKey(end) : Unbounded, cancellationToken).ConfigureAwait(false);
            var fresh = new List<TransitionEvent>(batch.Count);
            foreach (var row in batch)
            {
                var made = KeyTime(row.TransitionUuid);
                if (_seen.TryAdd(row.TransitionUuid, made))
                {
                    fresh.Add(row);
                    if (made > _newest) _newest = made;
                }
            }
            Forget();
            if (fresh.Count > 0)
                yield return [.. fresh.OrderBy(e => e.At).ThenBy(e => e.TaskUuid).ThenBy(e => e.Ordinal)];
            if (batch.Count == BatchSize)
            {
                after = batch[^1].TransitionUuid;
                window = window / 2 < MinWindow ? MinWindow : window / 2;
                continue;
            }
            if (!bounded) break;
            after = CeilingKey(end - TimeSpan.FromMilliseconds(1)); // read all of the window: go on at its end
            window = window * 2 > MaxWindow ? MaxWindow : window * 2;
        }
    }

    /// <summary>Look again from <see cref="Overlap"/> before the newest key seen next time; forget what lies before that.</summary>
    private void Forget()
    {
        if (_seen.Count == 0) return;
        var floor = _newest - Overlap;
        var floorKey = FloorKey(floor);
        if (Compare(floorKey, _after) > 0) _after = floorKey;
        foreach (var (uuid, _) in _seen.Where(e => e.Value < floor).ToArray()) _seen.Remove(uuid);
    }

    /// <summary>Transitions with keys between <paramref name="after"/> and <paramref name="before"/> (both excluded).</summary>
    private async Task<List<TransitionEvent>> ReadBatchAsync(Guid after, Guid before, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Sql);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = after });
        command.Parameters.Add(taskUuid is { } task ? new NpgsqlParameter<Guid> { TypedValue = task } : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        command.Parameters.Add(ns is not null ? new NpgsqlParameter<string> { TypedValue = ns } : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = BatchSize });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = before });
        var rows = new List<TransitionEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(new TransitionEvent(
                reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.GetString(6), reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                reader.IsDBNull(9) ? null : reader.GetInt32(9), reader.GetInt32(10),
                new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(11), DateTimeKind.Utc))));
        return rows;
    }

    /// <summary>The smallest UUIDv7 of the millisecond <paramref name="at"/> (all random bits zero).</summary>
    public static Guid FloorKey(DateTimeOffset at)
    {
        var ms = Math.Max(0, at.ToUnixTimeMilliseconds());
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < 6; i++) bytes[i] = (byte)(ms >> (8 * (5 - i)));
        bytes[6] = 0x70; // version 7
        bytes[8] = 0x80; // RFC 4122 variant
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>
    /// The largest uuid of the millisecond <paramref name="at"/> (all bits after the time set): every UUIDv7 made
    /// later is above it, every one made then or earlier is not.
    /// </summary>
    public static Guid CeilingKey(DateTimeOffset at)
    {
        var ms = Math.Max(0, at.ToUnixTimeMilliseconds());
        Span<byte> bytes = stackalloc byte[16];
        bytes.Fill(0xFF);
        for (var i = 0; i < 6; i++) bytes[i] = (byte)(ms >> (8 * (5 - i)));
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>The wall-clock millisecond a UUIDv7 was made.</summary>
    public static DateTimeOffset KeyTime(Guid uuid)
    {
        var bytes = ToBigEndian(uuid);
        long ms = 0;
        for (var i = 0; i < 6; i++) ms = (ms << 8) | bytes[i];
        return DateTimeOffset.FromUnixTimeMilliseconds(ms);
    }

    private static byte[] ToBigEndian(Guid uuid) => uuid.ToByteArray(bigEndian: true);

    /// <summary>PostgreSQL's order of uuids: their bytes, most significant first.</summary>
    private static int Compare(Guid a, Guid b) => ToBigEndian(a).AsSpan().SequenceCompareTo(ToBigEndian(b));
}
