namespace Tasker.Postgres.Tasks;

/// <summary>
/// Changes of one task within this process take turns. Without this, two workers finishing steps of the same task at
/// once (a fan-out's branches) both start from the same copy, and the second one's compare-and-set loses: a wasted
/// write, a reload and a second write. Taking turns, the second starts from the first one's committed copy in the
/// task cache and writes once. Striped (a fixed set of gates picked by the task's hash): bounded memory, and two
/// tasks share a gate rarely enough that the wait is a short one. Across processes the compare-and-set still decides.
/// </summary>
internal sealed class TaskGates
{
    private const int Stripes = 1024;

    private readonly SemaphoreSlim[] _gates = Enumerable.Range(0, Stripes).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    public SemaphoreSlim For(Guid task) => _gates[(task.GetHashCode() & int.MaxValue) % Stripes];
}
