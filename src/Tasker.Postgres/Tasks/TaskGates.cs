namespace Tasker.Postgres.Tasks;

/// <summary>
/// Changes of one task within this process take turns. Without this, two workers finishing steps of the same task at
/// once (a fan-out's branches) both start from the same copy, and the second one's compare-and-set loses: a wasted
/// write, a reload and a second write. Taking turns, the second starts from the first one's committed copy in the
/// task cache and writes once. Across processes the compare-and-set still decides.
/// <para>
/// One gate per task, for as long as someone holds or waits for it, so memory follows the changes in flight. (Gates
/// used to be 1,024 stripes picked by the task's hash: a work claim then passed over a found task because a report of
/// another task held its stripe, about one in 16 with 64 reports in flight.) Use: <see cref="Join"/>, take the turn
/// (<see cref="Gate.Turn"/>), release it if taken, then <see cref="Leave"/> exactly once.
/// </para>
/// </summary>
internal sealed class TaskGates
{
    /// <summary>Gates kept for reuse: without them every task write would leave one behind as garbage.</summary>
    private const int Spares = 64;

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Gate> _gates = [];
    private readonly Stack<Gate> _spare = new();

    internal sealed class Gate
    {
        /// <summary>Whose turn it is: one holder at a time.</summary>
        public SemaphoreSlim Turn { get; } = new(1, 1);

        // Guarded by the owner's lock.
        internal Guid Task;
        internal int Users; // holders and waiters
    }

    /// <summary>The task's gate, counted as used by the caller until <see cref="Leave"/>.</summary>
    public Gate Join(Guid task)
    {
        lock (_lock)
        {
            if (!_gates.TryGetValue(task, out var gate))
            {
                gate = _spare.Count > 0 ? _spare.Pop() : new Gate();
                gate.Task = task;
                _gates.Add(task, gate);
            }
            gate.Users++;
            return gate;
        }
    }

    /// <summary>The caller is done with the gate (its turn, if it had one, already released).</summary>
    public void Leave(Gate gate)
    {
        lock (_lock)
        {
            if (--gate.Users > 0) return;
            _gates.Remove(gate.Task);
            if (_spare.Count < Spares) _spare.Push(gate);
        }
    }

    /// <summary>Tasks with a gate now (tests).</summary>
    internal int Count
    {
        get { lock (_lock) return _gates.Count; }
    }
}
