using Npgsql;
using Tasker.Postgres.Resilience;

namespace Tasker.Postgres.Tasks;

/// <summary>
/// Group commit. Changes of different tasks that are ready to be written at the same moment in this process go to
/// PostgreSQL together: one <see cref="Sql.TaskSql.Write"/> statement, one commit. There is no timer: a write that
/// finds nothing on the wire goes at once (alone, when the process is quiet); writes that arrive while a statement is
/// on the wire queue up and go together as soon as it returns, on the connection of the first of them. A queued write
/// holds no connection (<see cref="ConnectionLease"/>; one that loaded its task hands that one back as it queues):
/// only each batch's leader takes one, when it sends, so a leader never waits for a connection that a writer queued
/// behind it holds. Under load the
/// batches grow by themselves; every caller still returns only once its own write committed (or it learns that its
/// compare-and-set lost), so durability on return is what it was with one commit per change.
/// <para>
/// One batched write statement is on the wire per process at a time: the server's work per batch is nearly flat in its
/// size, so a second statement in flight would only split batches. (Writes under a row lock after lost races, and the
/// rare retries alone after a refused batch, go on their own connections outside the batcher.) Two writes of the same task never share a statement (the
/// second goes in the next one, where its compare-and-set sees the first).
/// </para>
/// </summary>
internal sealed class WriteBatcher(TaskWriter writer)
{
    /// <summary>At most this many task writes per statement: bounds a statement's size and each caller's wait.</summary>
    public const int MaxBatch = 128;

    /// <summary>A statement that timed out would only time out again for each of its writes alone.</summary>
    private const string StatementTimeout = "57014";

    private readonly Lock _gate = new();
    private readonly List<Member> _queue = [];
    private bool _onTheWire;

    /// <summary>Writes waiting for the statement on the wire (tests wait for a batch to form).</summary>
    internal int Queued
    {
        get
        {
            lock (_gate) return _queue.Count;
        }
    }

    /// <summary>
    /// Writes <paramref name="write"/>, alone or with others. True when written, false when its compare-and-set lost.
    /// Failures of the statement reach every caller whose write it carried (each settles its own doubt on retry),
    /// except that a server refusal of a batch makes each of its writes try again alone, so that one bad change
    /// cannot fail the others.
    /// </summary>
    public async ValueTask<bool> WriteAsync(ConnectionLease lease, TaskWrite write)
    {
        var me = new Member(write);
        List<Member>? batch = null;
        lock (_gate)
        {
            if (_onTheWire) _queue.Add(me);
            else (_onTheWire, batch) = (true, [me]);
        }
        if (batch is null)
        {
            await lease.ReleaseAsync().ConfigureAwait(false); // no transaction is open on it: the batcher's writes are autocommit
            batch = await me.Wake.Task.ConfigureAwait(false); // null: another writer's batch carried ours
        }
        if (batch is not null)
            await SendAsync(lease, batch).ConfigureAwait(false);

        var outcome = me.Outcome;
        if (outcome.Error is { } error)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        if (outcome.Alone)
        {
            var connection = await lease.GetAsync(CancellationToken.None).ConfigureAwait(false);
            return (await writer.WriteAsync(connection, null, [write], CancellationToken.None).ConfigureAwait(false)).Count == 1;
        }
        return outcome.Written;
    }

    /// <summary>
    /// Sends one batch (its first member leads it, on its own connection), tells each of its writers what became of
    /// its write, then hands the wire on.
    /// </summary>
    private async ValueTask SendAsync(ConnectionLease lease, List<Member> batch)
    {
        try
        {
            // Not the leader's token: the statement carries other callers' writes. The command timeout bounds it, and
            // the pool's Timeout the wait for a connection (none with Timeout=0: then only other calls' returns end it).
            var connection = await lease.GetAsync(CancellationToken.None).ConfigureAwait(false);
            var written = await writer.WriteAsync(connection, null, batch.ConvertAll(m => m.Write), CancellationToken.None).ConfigureAwait(false);
            foreach (var m in batch)
                m.Outcome = new Outcome(written.Contains(m.Write.Task.Uuid), null, false);
        }
        catch (PostgresException e) when (batch.Count > 1 && !TransientErrors.IsTransient(e) && e.SqlState != StatementTimeout)
        {
            foreach (var m in batch)
                m.Outcome = new Outcome(false, null, Alone: true);
        }
        catch (Exception e)
        {
            foreach (var m in batch)
                m.Outcome = new Outcome(false, e, false);
        }
        finally
        {
            HandOver();
        }
        for (var i = 1; i < batch.Count; i++)
            batch[i].Wake.TrySetResult(null);
    }

    /// <summary>The writes queued meanwhile become the next batch, led by the first of them; or the wire goes idle.</summary>
    private void HandOver()
    {
        List<Member> next;
        lock (_gate)
        {
            if (_queue.Count == 0)
            {
                _onTheWire = false;
                return;
            }
            next = new List<Member>(Math.Min(_queue.Count, MaxBatch));
            var tasks = new HashSet<Guid>();
            for (var i = 0; i < _queue.Count && next.Count < MaxBatch;)
            {
                if (tasks.Add(_queue[i].Write.Task.Uuid))
                {
                    next.Add(_queue[i]);
                    _queue.RemoveAt(i);
                }
                else i++; // a second write of a task already in this batch waits for the next one
            }
        }
        next[0].Wake.TrySetResult(next);
    }

    private sealed class Member(TaskWrite write)
    {
        public TaskWrite Write { get; } = write;

        /// <summary>Set to the batch this writer leads, or to null once another's batch carried its write.</summary>
        public TaskCompletionSource<List<Member>?> Wake { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>What became of the write; set before <see cref="Wake"/> completes.</summary>
        public Outcome Outcome { get; set; }
    }

    private readonly record struct Outcome(bool Written, Exception? Error, bool Alone);
}
