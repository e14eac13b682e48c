using Tasker.Core.Storage;
using Tasker.Core.Storage.Memory;
using Tasker.Core.Templates;
using Xunit;

namespace Tasker.Core.Tests.Work;

/// <summary>
/// A store's listener wakes a waiting work claim on its own thread (<see cref="WorkSignal.RaiseHere"/>); the claim's
/// caller never goes on there, even when the claim ends without waiting for the store.
/// </summary>
public sealed class ListenerWakeTests
{
    /// <summary>True on the test's listener thread while it runs the engine's wake.</summary>
    [ThreadStatic] private static bool t_waking;

    [Fact]
    public async Task A_claim_that_fails_at_once_when_woken_by_the_listener_does_not_return_to_its_caller_inside_the_wake()
    {
        var store = new ListenedStore();
        await using var engine = new TaskerEngine(store);
        var claim = engine.ClaimWorkAsync(new WorkClaimOptions(new HashSet<string> { "h" }, Wait: TimeSpan.FromSeconds(30))).AsTask();
        // The caller's code: whether it runs inside the listener's wake.
        var callerInsideWake = claim.ContinueWith(_ => t_waking, TaskContinuationOptions.ExecuteSynchronously);
        await store.Looked.Task.WaitAsync(TimeSpan.FromSeconds(10)); // it found nothing, and waits to be woken
        store.FailNext = true;

        await Task.Run(() =>
        {
            // As the listener does: on a thread-pool thread, with no synchronization context.
            t_waking = true;
            try { store.Wake!(); }
            finally { t_waking = false; }
        });

        await Assert.ThrowsAsync<TaskerException>(() => claim);
        Assert.True(store.FailedInsideWake); // the woken claim ran on the listener's thread, and failed there
        Assert.False(await callerInsideWake.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>A memory store with a listener the test drives, whose next work claim can fail before any wait.</summary>
    private sealed class ListenedStore : IStore
    {
        private readonly MemoryStore _inner = new();

        public Action? Wake { get; private set; }
        public TaskCompletionSource Looked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public volatile bool FailNext;
        public bool FailedInsideWake { get; private set; }

        public void ListenForWork(Action wake) => Wake ??= wake;

        public ValueTask<WorkFound> ClaimReadyTasksAsync(WorkQuery query, DateTimeOffset now, Action<IReadOnlyList<WorkflowTask>> change,
            Action<WorkflowTask>? committed, CancellationToken cancellationToken)
        {
            if (FailNext)
            {
                FailedInsideWake = t_waking;
                throw new TaskerException(TaskerErrorCode.Database, "the database is unavailable");
            }
            var found = _inner.ClaimReadyTasksAsync(query, now, change, committed, cancellationToken);
            Looked.TrySetResult();
            return found;
        }

        public ValueTask MigrateAsync(CancellationToken cancellationToken) => _inner.MigrateAsync(cancellationToken);
        public ValueTask SaveTemplateAsync(TaskTemplate template, CancellationToken cancellationToken) => _inner.SaveTemplateAsync(template, cancellationToken);
        public ValueTask<TaskTemplate?> FindTemplateAsync(string ns, string name, string? version, CancellationToken cancellationToken) =>
            _inner.FindTemplateAsync(ns, name, version, cancellationToken);
        public ValueTask<(Guid TaskUuid, bool Created)> CreateTaskAsync(WorkflowTask task, CancellationToken cancellationToken) =>
            _inner.CreateTaskAsync(task, cancellationToken);
        public ValueTask<T> UpdateTaskAsync<T>(Guid taskUuid, Func<WorkflowTask, T> change, Action<WorkflowTask>? committed, CancellationToken cancellationToken) =>
            _inner.UpdateTaskAsync(taskUuid, change, committed, cancellationToken);
        public ValueTask<T> ReadTaskAsync<T>(Guid taskUuid, Func<WorkflowTask, T> read, CancellationToken cancellationToken) =>
            _inner.ReadTaskAsync(taskUuid, read, cancellationToken);
        public ValueTask<IReadOnlyList<TransitionRecord>> GetTransitionsAsync(Guid taskUuid, CancellationToken cancellationToken) =>
            _inner.GetTransitionsAsync(taskUuid, cancellationToken);
        public ValueTask<IReadOnlyList<TaskSummary>> ListTasksAsync(TaskQuery query, CancellationToken cancellationToken) =>
            _inner.ListTasksAsync(query, cancellationToken);
        public ValueTask<StaleWork> ListStaleWorkAsync(DateTimeOffset now, int limit, StaleThresholds thresholds, CancellationToken cancellationToken) =>
            _inner.ListStaleWorkAsync(now, limit, thresholds, cancellationToken);
        public ValueTask DisposeAsync() => _inner.DisposeAsync();
    }
}
