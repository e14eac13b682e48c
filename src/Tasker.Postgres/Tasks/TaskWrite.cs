using Tasker.Core;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// One task's change, computed in memory and ready to be written back: the aggregate after the change, the
/// <c>row_version</c> and transition count it was computed on (the compare-and-set), its new audit rows and the
/// stamp that proves the write committed when its reply is lost.
/// </summary>
internal sealed class TaskWrite(WorkflowTask task, long rowVersion, int transitionCount, TransitionRows transitions, Guid writeUuid)
{
    public WorkflowTask Task { get; } = task;
    public long RowVersion { get; } = rowVersion;
    public int TransitionCount { get; } = transitionCount;
    public TransitionRows Transitions { get; } = transitions;
    public Guid WriteUuid { get; } = writeUuid;
}
