namespace Tasker.Core.Storage.Memory;

/// <summary>
/// The audit trail of one task in the memory store, kept compact because every retained finished task keeps its trail
/// (about 19 entries for an 8-step task): one array of structs of 40 bytes, sized for a task that runs without
/// retries, instead of a list of <see cref="TransitionRecord"/> objects (104 bytes each plus a reference and the
/// list's slack). A step is referred to by its index in the task, a state by its number, a time by its UTC ticks; the
/// records are rebuilt when read.
/// </summary>
internal sealed class AuditTrail(int steps)
{
    private const int NoAttempt = int.MinValue;
    private const int TaskLevel = -1;

    private const byte NoState = byte.MaxValue;

    private readonly record struct Entry(byte From, byte To, string Reason, string? Actor, long At, int Step, int Attempt);

    // Created, started and finished, and two transitions per step (claimed, completed): the trail of a clean run.
    private Entry[] _entries = new Entry[3 + 2 * steps];

    public int Count { get; private set; }

    public void Append(WorkflowTask task, List<TransitionRecord> records)
    {
        foreach (var r in records)
        {
            var step = TaskLevel;
            if (r.StepUuid is { } uuid && (step = task.IndexOf(uuid)) < 0)
                throw new InvalidOperationException($"a transition of step {uuid}, which task {task.Uuid} does not have");
            if (Count == _entries.Length)
                Array.Resize(ref _entries, _entries.Length * 2);
            _entries[Count++] = new Entry(r.From is null ? NoState : StateNames.Number(r.From), StateNames.Number(r.To), r.Reason, r.Actor,
                r.At.UtcTicks, step, r.Attempt ?? NoAttempt);
        }
    }

    /// <summary>When step <paramref name="index"/> last changed state, or null when it never did.</summary>
    public DateTimeOffset? LastChangeOf(int index)
    {
        for (var h = Count - 1; h >= 0; h--)
            if (_entries[h].Step == index)
                return Time(_entries[h].At);
        return null;
    }

    public TransitionRecord[] ToArray(WorkflowTask task)
    {
        var records = new TransitionRecord[Count];
        for (var i = 0; i < records.Length; i++)
            records[i] = Record(_entries[i], task);
        return records;
    }

    private static TransitionRecord Record(in Entry e, WorkflowTask task)
    {
        var step = e.Step == TaskLevel ? null : task.Steps[e.Step];
        return new TransitionRecord(step?.Uuid, step?.Name, e.From == NoState ? null : StateNames.Name(e.From), StateNames.Name(e.To),
            e.Reason, e.Actor, Time(e.At), e.Attempt == NoAttempt ? null : e.Attempt);
    }

    private static DateTimeOffset Time(long utcTicks) => new(utcTicks, TimeSpan.Zero);
}
