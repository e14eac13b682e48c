using Npgsql;
using Tasker.Core;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// One task as <see cref="Sql.TaskSql.Load"/> returns it: the header columns and the mutable step columns as
/// parallel arrays. Read by ordinal with the driver's typed getters (no mapping layer on the hottest path).
/// </summary>
internal sealed class TaskRow
{
    public required Guid TaskUuid { get; init; }
    public required TaskHeader Header { get; init; }
    public required string DefinitionKey { get; init; }
    public required long RowVersion { get; init; }
    public required int TransitionCount { get; init; }
    public required Guid? LastWriteUuid { get; init; }

    private int[] _index = [];
    private Guid[] _uuid = [];
    private string[] _state = [];
    private int[] _attempts = [];
    private string?[] _result = [];
    private string?[] _metadata = [];
    private string?[] _lastError = [];
    private DateTime?[] _nextRetryAt = [];
    private string?[] _claimToken = [];
    private DateTime?[] _leaseExpiresAt = [];
    private string?[] _claimedBy = [];
    private DateTime?[] _startedAt = [];
    private DateTime?[] _finishedAt = [];

    public static TaskRow Read(NpgsqlDataReader r, Guid taskUuid)
    {
        var header = new TaskHeader
        {
            Uuid = taskUuid,
            Namespace = r.GetString(0),
            Name = r.GetString(1),
            Version = r.GetString(2),
            State = StateNames.ParseTaskState(r.GetString(3)),
            Context = JsonValues.Parse(r.GetString(4), "context"),
            Tags = r.GetFieldValue<string[]>(5),
            Priority = r.GetInt32(6),
            Initiator = Text(r, 7),
            SourceSystem = Text(r, 8),
            Reason = Text(r, 9),
            CorrelationId = Text(r, 10),
            IdempotencyKey = Text(r, 11),
            Identity = Text(r, 12),
            FailFast = r.GetBoolean(13),
            CreatedAt = Instant(r, 14)!.Value,
            UpdatedAt = Instant(r, 15)!.Value,
            FinishedAt = Instant(r, 16),
            TraceParent = Text(r, 34),
            RequestedAt = Instant(r, 35),
            TimeoutSeconds = r.IsDBNull(36) ? null : r.GetInt32(36),
        };
        var row = new TaskRow
        {
            TaskUuid = taskUuid,
            Header = header,
            DefinitionKey = r.GetString(17),
            RowVersion = r.GetInt64(18),
            TransitionCount = r.GetInt32(19),
            LastWriteUuid = r.IsDBNull(20) ? null : r.GetGuid(20),
        };
        if (!r.IsDBNull(21)) // array_agg over no rows is NULL; a task always has steps, but stay total
        {
            row._index = r.GetFieldValue<int[]>(21);
            row._uuid = r.GetFieldValue<Guid[]>(22);
            row._state = r.GetFieldValue<string[]>(23);
            row._attempts = r.GetFieldValue<int[]>(24);
            row._result = r.GetFieldValue<string?[]>(25);
            row._metadata = r.GetFieldValue<string?[]>(26);
            row._lastError = r.GetFieldValue<string?[]>(27);
            row._nextRetryAt = r.GetFieldValue<DateTime?[]>(28);
            row._claimToken = r.GetFieldValue<string?[]>(29);
            row._leaseExpiresAt = r.GetFieldValue<DateTime?[]>(30);
            row._claimedBy = r.GetFieldValue<string?[]>(31);
            row._startedAt = r.GetFieldValue<DateTime?[]>(32);
            row._finishedAt = r.GetFieldValue<DateTime?[]>(33);
        }
        return row;
    }

    /// <summary>How many steps the row has (a shape to build it with must have as many).</summary>
    public int StepCount => _index.Length;

    /// <summary>Each step's uuid, in the row's order (index order for a row read from an announcement).</summary>
    public ReadOnlySpan<Guid> StepUuids => _uuid;

    /// <summary>A step as its task's insert wrote it: the columns a created step can have set.</summary>
    public readonly record struct CreatedStep(int Index, Guid Uuid, string State, int Attempts, string? Metadata, DateTime? FinishedAt);

    /// <summary>
    /// The row a load would return right after the insert (row version 0, no write since), from what the insert wrote
    /// (<see cref="Work.Announcement"/>); every other step column is still NULL then.
    /// </summary>
    public static TaskRow Created(TaskHeader header, string definitionKey, int transitionCount, IReadOnlyList<CreatedStep> steps)
    {
        var n = steps.Count;
        var row = new TaskRow
        {
            TaskUuid = header.Uuid,
            Header = header,
            DefinitionKey = definitionKey,
            RowVersion = 0,
            TransitionCount = transitionCount,
            LastWriteUuid = null,
            _index = [.. steps.Select(s => s.Index)],
            _uuid = [.. steps.Select(s => s.Uuid)],
            _state = [.. steps.Select(s => s.State)],
            _attempts = [.. steps.Select(s => s.Attempts)],
            _result = new string?[n],
            _metadata = [.. steps.Select(s => s.Metadata)],
            _lastError = new string?[n],
            _nextRetryAt = new DateTime?[n],
            _claimToken = new string?[n],
            _leaseExpiresAt = new DateTime?[n],
            _claimedBy = new string?[n],
            _startedAt = new DateTime?[n],
            _finishedAt = [.. steps.Select(s => s.FinishedAt)],
        };
        return row;
    }

    /// <summary>Builds the engine's aggregate: fixed parts from the cached shape, mutable parts from this row.</summary>
    public WorkflowTask Build(TaskShape shape)
    {
        if (_index.Length != shape.Steps.Length)
            throw new InvalidOperationException($"task {TaskUuid} has {_index.Length} steps but its shape has {shape.Steps.Length}");
        var steps = new WorkflowStep[_index.Length];
        for (var n = 0; n < _index.Length; n++)
        {
            var i = _index[n];
            var d = shape.Steps[i];
            steps[i] = new WorkflowStep
            {
                Uuid = _uuid[n],
                Index = i,
                Name = d.Name,
                Handler = d.Handler,
                Initialization = d.Initialization,
                Retryable = d.Retryable,
                MaxAttempts = d.MaxAttempts,
                BackoffBaseSeconds = d.BackoffBaseSeconds,
                MaxBackoffSeconds = d.MaxBackoffSeconds,
                TimeoutSeconds = d.TimeoutSeconds,
                State = StateNames.ParseStepState(_state[n]),
                Attempts = _attempts[n],
                Result = Json(_result[n], "step result"),
                Metadata = Json(_metadata[n], "step metadata"),
                LastError = StepErrorJson.Read(_lastError[n]),
                NextRetryAt = Instant(_nextRetryAt[n]),
                ClaimToken = _claimToken[n],
                LeaseExpiresAt = Instant(_leaseExpiresAt[n]),
                ClaimedBy = _claimedBy[n],
                StartedAt = Instant(_startedAt[n]),
                FinishedAt = Instant(_finishedAt[n]),
            };
        }
        return new WorkflowTask(Header, steps, shape.Graph);
    }

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static DateTimeOffset? Instant(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : Instant(r.GetDateTime(i));

    private static DateTimeOffset? Instant(DateTime? utc) =>
        utc is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;

    private static System.Text.Json.JsonElement? Json(string? text, string what) => text is null ? null : JsonValues.Parse(text, what);
}
