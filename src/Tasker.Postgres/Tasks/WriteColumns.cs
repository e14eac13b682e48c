using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Sql;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// The parameters of <see cref="TaskSql.Write"/> for any number of task writes: one array per column of the task
/// headers, the dirty steps and the new transitions, each row tagged with its task (the statement joins on it).
/// </summary>
internal sealed class WriteColumns
{
    // Task headers: the compare-and-set and the new header values.
    private readonly List<Guid> _taskUuid = [];
    private readonly List<long> _rowVersion = [];
    private readonly List<string> _taskState = [];
    private readonly List<DateTime?> _taskUpdatedAt = [];
    private readonly List<DateTime?> _taskFinishedAt = [];
    private readonly List<int> _transitionCount = [];
    private readonly List<Guid> _writeUuid = [];
    private readonly List<Guid?> _basedOnWrite = [];
    private readonly List<DateTime?> _claimableAt = [];
    private readonly List<long> _workMask = [];

    // Dirty steps: their mutable columns.
    private readonly List<Guid> _stepTask = [];
    private readonly List<Guid> _stepUuid = [];
    private readonly List<string?> _stepState = [];
    private readonly List<int> _attempts = [];
    private readonly List<string?> _result = [];
    private readonly List<string?> _metadata = [];
    private readonly List<string?> _lastError = [];
    private readonly List<DateTime?> _nextRetryAt = [];
    private readonly List<string?> _claimToken = [];
    private readonly List<DateTime?> _leaseExpiresAt = [];
    private readonly List<string?> _claimedBy = [];
    private readonly List<DateTime?> _startedAt = [];
    private readonly List<DateTime?> _stepFinishedAt = [];

    // New transitions of both audit tables (a null step uuid marks a task transition).
    private readonly List<Guid> _transitionUuid = [];
    private readonly List<Guid> _transitionTask = [];
    private readonly List<Guid?> _transitionStep = [];
    private readonly List<int> _ordinal = [];
    private readonly List<string?> _from = [];
    private readonly List<string?> _to = [];
    private readonly List<string?> _reason = [];
    private readonly List<string?> _actor = [];
    private readonly List<int?> _attempt = [];
    private readonly List<DateTime?> _at = [];

    public WriteColumns(IReadOnlyList<TaskWrite> writes)
    {
        foreach (var write in writes) Add(write);
    }

    private void Add(TaskWrite write)
    {
        var task = write.Task;
        var h = task.Header;
        _taskUuid.Add(task.Uuid);
        _rowVersion.Add(write.RowVersion);
        _taskState.Add(h.State.ToWire());
        _taskUpdatedAt.Add(h.UpdatedAt.UtcDateTime);
        _taskFinishedAt.Add(Parameters.Utc(h.FinishedAt));
        _transitionCount.Add(write.TransitionCount + task.NewTransitions.Count);
        _writeUuid.Add(write.WriteUuid);
        _basedOnWrite.Add(write.BasedOnWrite);
        _claimableAt.Add(Parameters.Utc(task.ClaimableAt()));
        _workMask.Add(Work.HandlerMask.Of(task));

        foreach (var index in task.DirtySteps)
        {
            var s = task.Steps[index];
            _stepTask.Add(task.Uuid);
            _stepUuid.Add(s.Uuid);
            _stepState.Add(s.State.ToWire());
            _attempts.Add(s.Attempts);
            _result.Add(s.Result?.GetRawText());
            _metadata.Add(s.Metadata?.GetRawText());
            _lastError.Add(StepErrorJson.Write(s.LastError));
            _nextRetryAt.Add(Parameters.Utc(s.NextRetryAt));
            _claimToken.Add(s.ClaimToken);
            _leaseExpiresAt.Add(Parameters.Utc(s.LeaseExpiresAt));
            _claimedBy.Add(s.ClaimedBy);
            _startedAt.Add(Parameters.Utc(s.StartedAt));
            _stepFinishedAt.Add(Parameters.Utc(s.FinishedAt));
        }

        write.Transitions.AppendTo(this, task.Uuid);
    }

    public void AddTransition(Guid uuid, Guid taskUuid, Guid? stepUuid, int ordinal, string? from, string? to, string? reason,
        string? actor, int? attempt, DateTime? at)
    {
        _transitionUuid.Add(uuid);
        _transitionTask.Add(taskUuid);
        _transitionStep.Add(stepUuid);
        _ordinal.Add(ordinal);
        _from.Add(from);
        _to.Add(to);
        _reason.Add(reason);
        _actor.Add(actor);
        _attempt.Add(attempt);
        _at.Add(at);
    }

    /// <summary>$1–$7 task headers, $8–$20 steps, $21–$30 transitions, $31 the headers' claimable_at, $32 the write stamps they were computed on, $33 their work masks, in <see cref="TaskSql.Write"/>'s order.</summary>
    public void AddParameters(NpgsqlParameterCollection p)
    {
        p.Add(Parameters.Array(_taskUuid.ToArray()));
        p.Add(Parameters.Array(_rowVersion.ToArray()));
        p.Add(Parameters.TextArray(_taskState.ToArray()));
        p.Add(Parameters.TimestampArray(_taskUpdatedAt.ToArray()));
        p.Add(Parameters.TimestampArray(_taskFinishedAt.ToArray()));
        p.Add(Parameters.Array(_transitionCount.ToArray()));
        p.Add(Parameters.Array(_writeUuid.ToArray()));

        p.Add(Parameters.Array(_stepTask.ToArray()));
        p.Add(Parameters.Array(_stepUuid.ToArray()));
        p.Add(Parameters.TextArray(_stepState.ToArray()));
        p.Add(Parameters.Array(_attempts.ToArray()));
        p.Add(Parameters.TextArray(_result.ToArray()));
        p.Add(Parameters.TextArray(_metadata.ToArray()));
        p.Add(Parameters.TextArray(_lastError.ToArray()));
        p.Add(Parameters.TimestampArray(_nextRetryAt.ToArray()));
        p.Add(Parameters.TextArray(_claimToken.ToArray()));
        p.Add(Parameters.TimestampArray(_leaseExpiresAt.ToArray()));
        p.Add(Parameters.TextArray(_claimedBy.ToArray()));
        p.Add(Parameters.TimestampArray(_startedAt.ToArray()));
        p.Add(Parameters.TimestampArray(_stepFinishedAt.ToArray()));

        p.Add(Parameters.Array(_transitionUuid.ToArray()));
        p.Add(Parameters.Array(_transitionTask.ToArray()));
        p.Add(Parameters.UuidArray(_transitionStep.ToArray()));
        p.Add(Parameters.Array(_ordinal.ToArray()));
        p.Add(Parameters.TextArray(_from.ToArray()));
        p.Add(Parameters.TextArray(_to.ToArray()));
        p.Add(Parameters.TextArray(_reason.ToArray()));
        p.Add(Parameters.TextArray(_actor.ToArray()));
        p.Add(Parameters.IntArray(_attempt.ToArray()));
        p.Add(Parameters.TimestampArray(_at.ToArray()));

        p.Add(Parameters.TimestampArray(_claimableAt.ToArray()));
        p.Add(Parameters.UuidArray(_basedOnWrite.ToArray()));
        p.Add(Parameters.Array(_workMask.ToArray()));
    }
}
