using System.Text.Json;
using Tasker.Core.Events;
using Tasker.Core.Graph;

namespace Tasker.Core;

/// <summary>
/// A task and its steps: the unit of consistency. Stores hand the engine one <see cref="WorkflowTask"/> at a time
/// under an exclusive lock (a monitor in memory, a row lock in PostgreSQL); every state change goes through
/// <see cref="TransitionStep"/> or <see cref="TransitionTask"/>, which check the transition tables, keep the
/// readiness bookkeeping incremental, append the audit trail and collect events.
/// </summary>
public sealed class WorkflowTask
{
    private static readonly int States = Enum.GetValues<StepState>().Length;
    // The readiness bookkeeping in one array (a retained finished task keeps it): the count of steps in each state,
    // each step's unsatisfied parents, then the two sets.
    private readonly int[] _book;
    private readonly IndexSet _candidates; // pending or waiting_for_retry, every parent satisfied, attempts left
    private readonly IndexSet _inFlight;   // in_progress
    private readonly bool[] _dirty;
    private readonly List<int> _dirtySteps = [];
    private Dictionary<Guid, int>? _indexByUuid;

    internal WorkflowTask(TaskHeader header, WorkflowStep[] steps, DagShape graph)
    {
        Header = header;
        Steps = steps;
        Graph = graph;
        var n = steps.Length;
        _book = new int[States + n + 2 * IndexSet.Size(n)];
        _candidates = new IndexSet(_book, States + n, n);
        _inFlight = new IndexSet(_book, States + n + IndexSet.Size(n), n);
        _dirty = new bool[steps.Length];
        RebuildReadiness();
    }

    /// <summary>The task row. Replaced only by a store that completes a header after a change (<see cref="WorkFound.HeadersCompleted"/>).</summary>
    public TaskHeader Header { get; internal set; }
    public Guid Uuid => Header.Uuid;
    public TaskState State => Header.State;
    public IReadOnlyList<WorkflowStep> Steps { get; }
    public DagShape Graph { get; }

    /// <summary>Transitions made by the current change, in order; the store appends them to the audit trail.</summary>
    public List<TransitionRecord> NewTransitions { get; } = [];

    /// <summary>Indices of steps the current change modified; the store writes back only these.</summary>
    public IReadOnlyList<int> DirtySteps => _dirtySteps;

    /// <summary>True when the current change modified the task row itself.</summary>
    public bool HeaderDirty { get; private set; }

    /// <summary>Events produced by the current change, published by the engine once the store has committed.</summary>
    internal List<TaskerEvent> NewEvents { get; } = [];

    /// <summary>The bus the current change emits to (only events someone subscribed to are built).</summary>
    internal EventBus? Bus { get; set; }

    internal int CountIn(StepState state) => _book[(int)state];
    internal ReadOnlySpan<int> Candidates => _candidates.Items;
    internal ReadOnlySpan<int> InFlight => _inFlight.Items;
    internal bool IsCandidate(int index) => _candidates.Contains(index);
    internal int UnsatisfiedParents(int index) => Unsatisfied(index);

    private ref int Unsatisfied(int index) => ref _book[States + index];

    /// <summary>
    /// When a worker may next claim a step of this task, whatever its handler: the task's creation when a step is
    /// ready now (so ready work goes oldest task first), a retry's time, an in-flight step's lease expiry; the earliest
    /// of these, or null when there is none (finished, or every step waiting on others or out of attempts). The
    /// PostgreSQL store keeps it on the task row, so that a work claim's find starts at claimable work instead of
    /// walking every task a worker is running. Computed by the same rules as the claim's own check.
    /// </summary>
    internal DateTimeOffset? ClaimableAt()
    {
        if (State.IsFinished()) return null;
        DateTimeOffset? earliest = null;
        foreach (var i in Candidates)
        {
            var step = Steps[i];
            var at = step.State == StepState.WaitingForRetry && step.NextRetryAt is { } retry && retry > Header.CreatedAt
                ? retry
                : Header.CreatedAt;
            if (earliest is not { } e || at < e) earliest = at;
        }
        foreach (var i in InFlight)
            if (Steps[i].LeaseExpiresAt is { } expires && (earliest is not { } e || expires < e))
                earliest = expires;
        return earliest;
    }

    /// <summary>Up to this many steps a scan finds a step faster than a hash lookup, and keeps no index per task.</summary>
    private const int ScanLimit = 32;

    public int IndexOf(Guid stepUuid)
    {
        if (Steps.Count <= ScanLimit)
        {
            for (var i = 0; i < Steps.Count; i++)
                if (Steps[i].Uuid == stepUuid)
                    return i;
            return -1;
        }
        _indexByUuid ??= BuildIndex();
        return _indexByUuid.TryGetValue(stepUuid, out var index) ? index : -1;
    }

    public int IndexOf(string stepName)
    {
        for (var i = 0; i < Steps.Count; i++)
            if (Steps[i].Name == stepName)
                return i;
        return -1;
    }

    private Dictionary<Guid, int> BuildIndex()
    {
        var index = new Dictionary<Guid, int>(Steps.Count);
        foreach (var step in Steps)
            index[step.Uuid] = step.Index;
        return index;
    }

    /// <summary>Recomputes all readiness bookkeeping from step states: the full pass, O(steps + edges).</summary>
    internal void RebuildReadiness()
    {
        Array.Clear(_book, 0, States);
        _candidates.Clear();
        _inFlight.Clear();
        for (var i = 0; i < Steps.Count; i++)
        {
            var step = Steps[i];
            _book[(int)step.State]++;
            var unsatisfied = 0;
            foreach (var parent in Graph.ParentsOf(i))
                if (!Steps[parent].State.IsSatisfied())
                    unsatisfied++;
            Unsatisfied(i) = unsatisfied;
            if (step.State == StepState.InProgress)
                _inFlight.Add(i);
            else
                ConsiderCandidate(i);
        }
    }

    private void ConsiderCandidate(int i)
    {
        var step = Steps[i];
        if (step.State is StepState.Pending or StepState.WaitingForRetry && Unsatisfied(i) == 0 && step.Attempts < step.MaxAttempts)
            _candidates.Add(i);
        else
            _candidates.Remove(i);
    }

    /// <summary>
    /// Moves step <paramref name="i"/> to <paramref name="to"/>. Returns false (and does nothing) when it is already
    /// there; throws <see cref="TaskerErrorCode.InvalidState"/> when the table forbids it. Only the dependents of a
    /// step that becomes satisfied are re-examined.
    /// </summary>
    internal bool TransitionStep(int i, StepState to, string reason, string? actor, DateTimeOffset at)
    {
        var step = Steps[i];
        var from = step.State;
        if (!Transitions.Check(from, to, step.Name)) return false;

        step.State = to;
        _book[(int)from]--;
        _book[(int)to]++;
        if (from == StepState.InProgress)
        {
            _inFlight.Remove(i);
            step.ClaimToken = null;
            step.LeaseExpiresAt = null;
        }
        if (to == StepState.InProgress)
        {
            _inFlight.Add(i);
            _candidates.Remove(i);
        }
        else
        {
            ConsiderCandidate(i);
        }

        if (to.IsSatisfied())
            foreach (var child in Graph.ChildrenOf(i))
                if (--Unsatisfied(child) == 0)
                    ConsiderCandidate(child);

        MarkDirty(i);
        var record = new TransitionRecord(step.Uuid, step.Name, from.ToWire(), to.ToWire(), reason, actor, at, step.Attempts);
        NewTransitions.Add(record);
        LastStepEvent = Emit(EventNames.ForStepTransition(from, to), at, step, record);
        return true;
    }

    /// <summary>Moves the task to <paramref name="to"/>; same contract as <see cref="TransitionStep"/>.</summary>
    internal bool TransitionTask(TaskState to, string reason, string? actor, DateTimeOffset at)
    {
        var from = Header.State;
        if (!Transitions.Check(from, to)) return false;
        Header.State = to;
        Header.UpdatedAt = at;
        Header.FinishedAt = to.IsFinished() ? at : null;
        HeaderDirty = true;
        var record = new TransitionRecord(null, null, from.ToWire(), to.ToWire(), reason, actor, at, null);
        NewTransitions.Add(record);
        Emit(EventNames.ForTaskTransition(from, to), at, null, record);
        return true;
    }

    internal void MarkDirty(int i)
    {
        if (_dirty[i]) return;
        _dirty[i] = true;
        _dirtySteps.Add(i);
    }

    internal void Touch(DateTimeOffset at)
    {
        Header.UpdatedAt = at;
        HeaderDirty = true;
    }

    /// <summary>
    /// What the current change leaves to do once the store has persisted it, like its events: log records, metrics and
    /// spans. A change that is rejected, or re-run after a conflict, leaves none of them behind, so nothing is logged or
    /// counted twice. Null until something is queued.
    /// </summary>
    internal List<Action<Microsoft.Extensions.Logging.ILogger>>? OnCommit { get; private set; }

    internal void AfterCommit(Action<Microsoft.Extensions.Logging.ILogger> effect) => (OnCommit ??= []).Add(effect);

    internal void Log(Action<Microsoft.Extensions.Logging.ILogger> write) => AfterCommit(write);

    /// <summary>The event of the latest step transition, or null when nobody subscribed to it.</summary>
    internal TaskerEvent? LastStepEvent { get; private set; }

    /// <summary>Builds and queues an event when someone subscribed to <paramref name="name"/>; returns it or null.</summary>
    internal TaskerEvent? Emit(string name, DateTimeOffset at, WorkflowStep? step, TransitionRecord? transition, Action<TaskerEvent>? fill = null)
    {
        if (Bus is null || !Bus.IsWanted(name)) return null;
        var e = new TaskerEvent
        {
            Name = name,
            Timestamp = at,
            TaskUuid = Header.Uuid,
            TaskName = Header.Name,
            Namespace = Header.Namespace,
            StepUuid = step?.Uuid,
            StepName = step?.Name,
            FromState = transition?.From,
            ToState = transition?.To,
            Reason = transition?.Reason,
            Actor = transition?.Actor,
            Attempt = step?.Attempts,
        };
        fill?.Invoke(e);
        NewEvents.Add(e);
        return e;
    }

    /// <summary>Forgets the change-tracking of the last change once the store has persisted it.</summary>
    public void AcceptChanges()
    {
        NewTransitions.Clear();
        NewEvents.Clear();
        LastStepEvent = null;
        OnCommit = null;
        foreach (var i in _dirtySteps)
            _dirty[i] = false;
        _dirtySteps.Clear();
        HeaderDirty = false;
        Bus = null;
        if (State.IsFinished())
        {
            // A finished task rarely changes again (an operator's retry, cancel or resolve grows these again), and a
            // terminal one is kept for the retention: it gives back the buffers of its change tracking, which the GC
            // would otherwise copy and keep with it.
            NewTransitions.Capacity = 0;
            NewEvents.Capacity = 0;
            _dirtySteps.Capacity = 0;
        }
    }
}

/// <summary>The task row: identity, request fields and current state.</summary>
public sealed class TaskHeader
{
    public required Guid Uuid { get; init; }
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public TaskState State { get; internal set; }
    /// <summary>The task's context; a store that keeps it in another form (PostgreSQL's jsonb) sets that form at creation.</summary>
    public JsonElement Context { get; internal set; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public int Priority { get; init; }
    public string? Initiator { get; init; }
    public string? SourceSystem { get; init; }
    public string? Reason { get; init; }
    public string? CorrelationId { get; init; }
    public string? IdempotencyKey { get; init; }
    /// <summary>The de-duplication identity (idempotency key or strict context hash), unique per namespace and name.</summary>
    public string? Identity { get; init; }
    public bool FailFast { get; init; }
    /// <summary>The template's <c>timeout_seconds</c>: past <see cref="CreatedAt"/> plus this, the task goes to <c>error</c>.</summary>
    public int? TimeoutSeconds { get; init; }
    /// <summary>The W3C trace context the task was created in; step and task spans join that trace.</summary>
    public string? TraceParent { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>When the host asked for the task (the request's <c>requested_at</c>, else <see cref="CreatedAt"/>).</summary>
    public DateTimeOffset? RequestedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; internal set; }
    public DateTimeOffset? FinishedAt { get; internal set; }
}
