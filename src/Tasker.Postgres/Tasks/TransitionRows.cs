using Tasker.Core;
using Tasker.Postgres.Sql;
using Npgsql;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// Splits a change's new transitions into the task and step audit tables, as <c>unnest</c> arrays. Each gets the next
/// ordinal of the task's history from the first ordinal given, preserving the order the engine made them in.
/// </summary>
internal sealed class TransitionRows
{
    private readonly List<TransitionRecord> _task = [];
    private readonly List<int> _taskOrdinals = [];
    private readonly List<TransitionRecord> _step = [];
    private readonly List<int> _stepOrdinals = [];

    public TransitionRows(IReadOnlyList<TransitionRecord> transitions, int firstOrdinal)
    {
        for (var n = 0; n < transitions.Count; n++)
        {
            var t = transitions[n];
            if (t.StepUuid is null)
            {
                _task.Add(t);
                _taskOrdinals.Add(firstOrdinal + n);
            }
            else
            {
                _step.Add(t);
                _stepOrdinals.Add(firstOrdinal + n);
            }
        }
    }

    /// <summary>Step attempts whose outcome this change records (the handler ran: complete, retry or error).</summary>
    public int ExecutedSteps => _step.Count(t => t.From == "in_progress" && t.To is "complete" or "waiting_for_retry" or "error" && t.Reason != "lease expired");

    /// <summary>Seven parameters: uuid, ordinal, from, to, reason, actor, at.</summary>
    public void AddTaskParameters(NpgsqlParameterCollection p)
    {
        p.Add(Parameters.Array(_task.Select(_ => Guid.CreateVersion7()).ToArray()));
        p.Add(Parameters.Array(_taskOrdinals.ToArray()));
        p.Add(Parameters.TextArray(_task.Select(t => t.From).ToArray()));
        p.Add(Parameters.TextArray(_task.Select(t => (string?)t.To).ToArray()));
        p.Add(Parameters.TextArray(_task.Select(t => (string?)t.Reason).ToArray()));
        p.Add(Parameters.TextArray(_task.Select(t => t.Actor).ToArray()));
        p.Add(Parameters.TimestampArray(_task.Select(t => Parameters.Utc(t.At)).ToArray()));
    }

    /// <summary>Nine parameters: uuid, step uuid, ordinal, from, to, reason, actor, attempt, at.</summary>
    public void AddStepParameters(NpgsqlParameterCollection p)
    {
        p.Add(Parameters.Array(_step.Select(_ => Guid.CreateVersion7()).ToArray()));
        p.Add(Parameters.Array(_step.Select(t => t.StepUuid!.Value).ToArray()));
        p.Add(Parameters.Array(_stepOrdinals.ToArray()));
        p.Add(Parameters.TextArray(_step.Select(t => t.From).ToArray()));
        p.Add(Parameters.TextArray(_step.Select(t => (string?)t.To).ToArray()));
        p.Add(Parameters.TextArray(_step.Select(t => (string?)t.Reason).ToArray()));
        p.Add(Parameters.TextArray(_step.Select(t => t.Actor).ToArray()));
        p.Add(Parameters.Array(_step.Select(t => t.Attempt ?? 0).ToArray()));
        p.Add(Parameters.TimestampArray(_step.Select(t => Parameters.Utc(t.At)).ToArray()));
    }
}
