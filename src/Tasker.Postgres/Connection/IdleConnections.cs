using System.Data;
using System.Diagnostics;
using System.Transactions;
using Npgsql;

namespace Tasker.Postgres.Connection;

/// <summary>
/// A pool's idle connections, handed out last in, first out, in front of Npgsql's own pool, which hands its idle
/// connections out first in, first out.
/// <para>
/// Why: a prepared statement and its plan belong to one connection, and each backend keeps its own caches. Handed out
/// in turn, every connection of the pool runs every statement. Each backend plans each statement for itself, and runs
/// it with cold caches. With 2 × 64 C# workers, a batched report write was planned 197 times in 416 runs, and planning
/// took a third of its time (docs/performance.md, session 30). Last in, first out, a process that makes fewer calls
/// at once than its pool size keeps to the few connections that are warm. The others are used only when needed.
/// </para>
/// <para>
/// A connection goes back to Npgsql's pool instead (see <see cref="ReturnAsync"/>): when its call failed (one that broke
/// takes the idle ones with it); while a call of the store waits for one there; while the store holds every connection
/// of the pool, so that a host sharing it (<see cref="PostgresStore.DataSource"/>) gets the next one, as it did before;
/// under a host's <c>TransactionScope</c>; after 5 s idle here (or the pool's <c>Connection Idle Lifetime</c>, if
/// shorter), except the one returned last, which stays for that idle lifetime in a pool of 4 or more (see <see cref="Prune"/>); and once the store took it from Npgsql's pool <c>Connection Lifetime</c> ago (3,600 s unless set; 0: no
/// limit), which Npgsql then closes, so a connection lives at most twice that long. Npgsql keeps the connections given
/// back open for their idle lifetime. With pooling turned off nothing is kept.
/// </para>
/// </summary>
internal sealed class IdleConnections : IAsyncDisposable
{
    /// <summary>Idle connections, oldest first: returned ones go on the end, which is also where they are taken from.</summary>
    private readonly List<(NpgsqlConnection Connection, long IdleSince)> _idle = [];
    /// <summary>When each connection lent out or idle here was taken from Npgsql's pool (Stopwatch ticks).</summary>
    private readonly Dictionary<NpgsqlConnection, long> _takenAt = [];
    private readonly Lock _lock = new();
    private readonly bool _keeps;
    private readonly long _idleLimit;
    private readonly long _warmLimit; // the connection returned last: the pool's idle lifetime
    private readonly long _lifetime; // 0: none
    private readonly int _poolSize;
    private int _opening; // calls waiting for a connection from Npgsql's pool

    /// <summary>The longest a connection stays idle here: long next to the gaps between a busy process's calls, short next to a host's wait.</summary>
    private static readonly TimeSpan KeepIdle = TimeSpan.FromSeconds(5);

    /// <summary>The smallest pool whose connection returned last stays idle here for the pool's idle lifetime.</summary>
    private const int MinPoolToKeepWarm = 4;

    private static readonly TimeSpan PruneEvery = TimeSpan.FromSeconds(1);
    private readonly Timer? _pruning;
    private bool _disposed;

    /// <param name="dataSource">The pool the connections come from and go back to.</param>
    /// <param name="keepIdle">Test seam: how long a connection other than the one returned last stays idle here (<see cref="KeepIdle"/>).</param>
    public IdleConnections(NpgsqlDataSource dataSource, TimeSpan? keepIdle = null)
    {
        DataSource = dataSource;
        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        _keeps = settings.Pooling;
        if (!_keeps) return;
        _idleLimit = (long)(Math.Min((keepIdle ?? KeepIdle).TotalSeconds, settings.ConnectionIdleLifetime) * Stopwatch.Frequency);
        _poolSize = settings.MaxPoolSize;
        // In a small pool one connection held idle is a large share of it, which a host sharing the pool may need.
        _warmLimit = _poolSize >= MinPoolToKeepWarm
            ? Math.Max(_idleLimit, (long)settings.ConnectionIdleLifetime * Stopwatch.Frequency)
            : _idleLimit;
        _lifetime = (long)settings.ConnectionLifetime * Stopwatch.Frequency;
        _pruning = new Timer(static s => ((IdleConnections)s!).Prune(), this, PruneEvery, PruneEvery);
    }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>Idle connections kept here right now.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _idle.Count;
        }
    }

    /// <summary>The open connection returned last, or else one from Npgsql's pool.</summary>
    public async ValueTask<NpgsqlConnection> RentAsync(CancellationToken cancellationToken)
    {
        // Under a host's TransactionScope the call gets a connection from Npgsql's pool, which enlists it, as it did
        // before there was this cache; such a connection is not kept afterwards.
        var ambient = Transaction.Current is not null;
        while (!ambient)
        {
            NpgsqlConnection? idle;
            lock (_lock)
            {
                idle = _idle.Count == 0 ? null : _idle[^1].Connection;
                if (idle is null) _opening++; // from here on, connections returned go to Npgsql's pool, where this call waits
                else _idle.RemoveAt(_idle.Count - 1);
            }
            if (idle is null) break;
            if (idle.FullState == ConnectionState.Open) return idle;
            GiveBack(idle); // broke while it was idle
        }
        if (ambient)
        {
            lock (_lock) _opening++;
        }
        try
        {
            var opened = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            if (_keeps)
            {
                lock (_lock) _takenAt[opened] = Stopwatch.GetTimestamp();
            }
            return opened;
        }
        finally
        {
            lock (_lock) _opening--;
        }
    }

    /// <summary>
    /// Takes a connection back. <paramref name="reusable"/>: the call on it completed, so no transaction or command is
    /// left open on it. Any other connection goes back to Npgsql's pool, which rolls back what is left; one that broke
    /// takes every idle connection with it (a server restart or failover broke them too, and Npgsql closes them).
    /// Connections also go back to Npgsql's pool, which hands them to whoever waits there first, while a call of the
    /// store waits there, while the store holds every connection of the pool (a host sharing the pool may be waiting),
    /// and under a host's TransactionScope (the connection may be enlisted in it).
    /// </summary>
    public ValueTask ReturnAsync(NpgsqlConnection connection, bool reusable)
    {
        var open = connection.FullState == ConnectionState.Open;
        if (_keeps && reusable && open && Transaction.Current is null)
        {
            var now = Stopwatch.GetTimestamp();
            lock (_lock)
            {
                if (!_disposed && _opening == 0 && _takenAt.Count < _poolSize && _takenAt.ContainsKey(connection) && !PastLifetime(connection, now))
                {
                    _idle.Add((connection, now));
                    return ValueTask.CompletedTask;
                }
            }
        }
        Forget(connection);
        if (!open) GiveBackIdle();
        return connection.DisposeAsync(); // Npgsql's pool rolls back what the call left open
    }

    /// <summary>Hands an idle connection (nothing open on it) back to Npgsql's pool.</summary>
    private void GiveBack(NpgsqlConnection connection)
    {
        Forget(connection);
        connection.Dispose();
    }

    private void Forget(NpgsqlConnection connection)
    {
        lock (_lock) _takenAt.Remove(connection);
    }

    /// <summary>
    /// Gives the connections idle here for longer than the idle limit back to Npgsql's pool, except the one returned
    /// last, which stays for the pool's idle lifetime (in a pool of <see cref="MinPoolToKeepWarm"/> or more). Why: Npgsql's pool hands out its oldest idle connection, so a
    /// process calling every few seconds (a web app creating a task now and then) otherwise got a backend that had not
    /// prepared its statements each time: the latency bench's first create after 10 s idle took 15–23 ms, 10 of them
    /// the server parsing and planning the create (docs/performance.md, session 38).
    /// </summary>
    private void Prune()
    {
        var now = Stopwatch.GetTimestamp();
        var cutoff = now - _idleLimit;
        List<NpgsqlConnection> stale;
        lock (_lock)
        {
            var count = 0;
            while (count < _idle.Count - 1 && _idle[count].IdleSince <= cutoff) count++;
            var last = count == _idle.Count - 1 && _idle.Count > 0 ? _idle[^1] : default;
            if (last.Connection is not null && (last.IdleSince <= now - _warmLimit || PastLifetime(last.Connection, now))) count++;
            if (count == 0) return;
            stale = TakeIdle(count);
        }
        foreach (var connection in stale) GiveBack(connection);
    }

    /// <summary>
    /// Taken from Npgsql's pool <c>Connection Lifetime</c> ago (lock held). Checked when a connection comes back, and for
    /// the one kept warm while it idles too: it may idle here far longer than the others.
    /// </summary>
    private bool PastLifetime(NpgsqlConnection connection, long now) =>
        _lifetime != 0 && _takenAt.TryGetValue(connection, out var takenAt) && now - takenAt >= _lifetime;

    /// <summary>Gives every idle connection back to Npgsql's pool.</summary>
    private void GiveBackIdle()
    {
        List<NpgsqlConnection> idle;
        lock (_lock) idle = TakeIdle(_idle.Count);
        foreach (var connection in idle) GiveBack(connection);
    }

    /// <summary>Removes the <paramref name="count"/> oldest idle connections (under the lock).</summary>
    private List<NpgsqlConnection> TakeIdle(int count)
    {
        var taken = _idle.GetRange(0, count).ConvertAll(static e => e.Connection);
        _idle.RemoveRange(0, count);
        return taken;
    }

    /// <summary>Gives every idle connection back to Npgsql's pool; connections returned later go there too.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_pruning is not null) await _pruning.DisposeAsync().ConfigureAwait(false);
        lock (_lock) _disposed = true;
        GiveBackIdle();
    }
}
