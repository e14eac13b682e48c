using Tasker.Core;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// One task's change, computed in memory and ready to be written back: the aggregate after the change, the
/// <c>row_version</c>, write stamp and transition count it was computed on (the compare-and-set), its new audit rows
/// and the stamp that proves the write committed when its reply is lost.
/// </summary>
internal sealed class TaskWrite(WorkflowTask task, long rowVersion, Guid? basedOnWrite, int transitionCount, TransitionRows transitions, Guid writeUuid)
{
    public WorkflowTask Task { get; } = task;
    public long RowVersion { get; } = rowVersion;

    /// <summary>
    /// The <c>last_write_uuid</c> of the row the change was computed on (null: none since the create). Checked with the
    /// row version: a row version alone can come round twice when the database loses an unflushed commit in a crash
    /// (<see cref="PostgresStoreOptions.DurableClaims"/>) and a later write reaches the same number.
    /// </summary>
    public Guid? BasedOnWrite { get; } = basedOnWrite;
    public int TransitionCount { get; } = transitionCount;
    public TransitionRows Transitions { get; } = transitions;
    public Guid WriteUuid { get; } = writeUuid;
}
