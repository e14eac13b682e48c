using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Sql;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// A change's new transitions as <c>unnest</c> arrays: one set for both audit tables (a null step uuid marks a task
/// transition; the SQL splits them). Each gets the next ordinal of the task's history, counting from the first
/// ordinal given, in the order the engine made them.
/// </summary>
internal sealed class TransitionRows
{
    private readonly Guid[] _uuid;
    private readonly Guid?[] _step;
    private readonly int[] _ordinal;
    private readonly string?[] _from;
    private readonly string?[] _to;
    private readonly string?[] _reason;
    private readonly string?[] _actor;
    private readonly int?[] _attempt;
    private readonly DateTime?[] _at;

    public TransitionRows(IReadOnlyList<TransitionRecord> transitions, int firstOrdinal)
    {
        var n = transitions.Count;
        (_uuid, _step, _ordinal, _from, _to, _reason, _actor, _attempt, _at) =
            (new Guid[n], new Guid?[n], new int[n], new string?[n], new string?[n], new string?[n], new string?[n], new int?[n], new DateTime?[n]);
        var claims = 0;
        var other = false;
        for (var i = 0; i < n; i++)
        {
            var t = transitions[i];
            _uuid[i] = Guid.CreateVersion7();
            _step[i] = t.StepUuid;
            _ordinal[i] = firstOrdinal + i;
            _from[i] = t.From;
            _to[i] = t.To;
            _reason[i] = t.Reason;
            _actor[i] = t.Actor;
            _attempt[i] = t.StepUuid is null ? null : t.Attempt ?? 0;
            _at[i] = t.At.UtcDateTime;
            if (t.StepUuid is not null && t.From == "in_progress" && t.To is "complete" or "waiting_for_retry" or "error" && t.Reason != "lease expired")
                ExecutedSteps++;
            if (t.StepUuid is not null && t.To == "in_progress" && t.From is "pending" or "waiting_for_retry") claims++;
            else if (t.StepUuid is not null || t.From != "pending" || t.To != "in_progress") other = true;
        }
        ClaimsOnly = claims > 0 && !other;
    }

    /// <summary>
    /// The change claims steps and does nothing else: each step transition starts an attempt (pending or waiting for a
    /// retry to in progress), and the only task transition, if any, is its start (pending to in progress). No outcome,
    /// no finalization, no lease expiry, no operator action.
    /// </summary>
    public bool ClaimsOnly { get; }

    /// <summary>Whether any row is a step's transition (the rest are the task's).</summary>
    public bool HasStepRows => Array.Exists(_step, step => step is not null);

    /// <summary>
    /// The key (ordinal) and uuid of the first transition row, if any: proof of the write's commit when its reply was
    /// lost.
    /// </summary>
    public (int Ordinal, Guid Uuid)? First => _uuid.Length > 0 ? (_ordinal[0], _uuid[0]) : null;

    /// <summary>Step attempts whose outcome this change records (the handler ran: complete, retry or error).</summary>
    public int ExecutedSteps { get; }

    /// <summary>Appends these rows to a batch's transition columns (<see cref="WriteColumns"/>).</summary>
    public void AppendTo(WriteColumns columns, Guid taskUuid)
    {
        for (var i = 0; i < _uuid.Length; i++)
            columns.AddTransition(_uuid[i], taskUuid, _step[i], _ordinal[i], _from[i], _to[i], _reason[i], _actor[i], _attempt[i], _at[i]);
    }

    /// <summary>Nine parameters: uuid, step uuid (null for the task), ordinal, from, to, reason, actor, attempt, at.</summary>
    public void AddParameters(NpgsqlParameterCollection p)
    {
        p.Add(Parameters.Array(_uuid));
        p.Add(Parameters.UuidArray(_step));
        p.Add(Parameters.Array(_ordinal));
        p.Add(Parameters.TextArray(_from));
        p.Add(Parameters.TextArray(_to));
        p.Add(Parameters.TextArray(_reason));
        p.Add(Parameters.TextArray(_actor));
        p.Add(Parameters.IntArray(_attempt));
        p.Add(Parameters.TimestampArray(_at));
    }
}
