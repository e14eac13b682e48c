using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tasker.Core;

namespace Tasker.Postgres.Bench.WorkMode;

/// <summary>
/// One worker process in worker mode (<c>work-worker</c>), shaped like the bindings' workers: <c>--concurrency</c>
/// slots and one claimer that asks <see cref="TaskerEngine.ClaimWorkAsync"/> for as many ready steps as slots are free
/// plus <c>--prefetch</c> (default: the concurrency; the bindings' workers prefetch only while their steps are short,
/// and a no-op always is), waiting for work. Each claim then runs the no-op handler in a slot (a prefetched one waits
/// for a free slot, in the order claimed) and reports with
/// <see cref="TaskerEngine.CompleteAndClaimAsync"/>. Like the bindings' workers, a slot is free once its handler
/// returned, while the report is on its way, and a report's claim_next asks for its task's next step, which waits for a
/// slot behind the steps claimed ahead: a task's chain goes on without a work claim. Driven by the <c>side-by-side</c>
/// orchestrator over stdin/stdout lines:
/// <list type="bullet">
/// <item>warm-up on the tasks of <c>--warmup-namespace</c> until none is left, then <c>READY</c>;</item>
/// <item><c>GO</c>: work on <c>--namespace</c> until <c>STOP</c>, then <c>REPORT steps first_ns last_ns</c>
/// (monotonic clock, comparable across processes);</item>
/// <item>with <c>--latency</c>: also <c>START id ns</c> when a step starts (the task context's <c>id</c>).</item>
/// </list>
/// </summary>
internal static class WorkModeWorker
{
    public static async Task<int> RunAsync(Cli cli)
    {
        var concurrency = cli.Int("concurrency", 8);
        var prefetch = cli.Int("prefetch", concurrency); // the bindings' workers' default
        var workerId = cli.Required("worker-id");
        var latency = cli.Flag("latency");
        var store = await PostgresStore.OpenAsync(new PostgresStoreOptions
        {
            ConnectionString = cli.DatabaseUrl(),
            Schema = cli.Required("schema"),
            ApplicationName = "tasker-bench-worker",
            MaxPoolSize = concurrency + 4,
        });
        await using var engine = new TaskerEngine(store);
        var lease = TimeSpan.FromSeconds(60);

        if (cli.Optional("warmup-namespace") is { } warmup)
        {
            // Not measured: JIT, the pool and the caches settle here. Stops at the first empty claim made while idle.
            await new Slots(engine, workerId, lease, concurrency, prefetch, warmup, latency: false).RunAsync(WarmupWait, stopWhenIdle: true, CancellationToken.None);
        }
        Console.Out.WriteLine("READY");
        Console.Out.Flush();
        if (Console.In.ReadLine() != "GO") return 3;

        var slots = new Slots(engine, workerId, lease, concurrency, prefetch, cli.String("namespace", BenchTemplates.Namespace), latency);
        var baseline = store.Statistics;
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => slots.RunAsync(TimeSpan.FromSeconds(1), stopWhenIdle: false, stop.Token));
        var line = await Task.Run(Console.In.ReadLine);
        await stop.CancelAsync();
        try { await running; }
        catch (OperationCanceledException) { }
        var stats = store.Statistics.Since(baseline);
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"REPORT {slots.Steps} {slots.FirstStart} {slots.LastEnd} {slots.Errors} {stats.Statements} {stats.WriteStatements} {stats.Conflicts} {slots.Claims} {slots.EmptyClaims}"));
        Console.Out.Flush();
        return line == "STOP" ? 0 : 3;
    }

    /// <summary>
    /// The warm-up's claims wait this long for work (as the Python bench worker's do): a claim can pass over a task one of
    /// this process's reports holds, and the wait gives it a second look once that report has made its steps ready.
    /// </summary>
    private static readonly TimeSpan WarmupWait = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The worker's slots, its claimer and its counters. <c>_free</c> counts the claims it may still take in hand
    /// (concurrency + prefetch), <c>_slots</c> the handlers that may still start.
    /// </summary>
    private sealed class Slots(TaskerEngine engine, string workerId, TimeSpan lease, int concurrency, int prefetch, string ns, bool latency)
    {
        private readonly IReadOnlySet<string> _namespaces = new HashSet<string>(StringComparer.Ordinal) { ns };
        private readonly SemaphoreSlim _free = new(concurrency + prefetch);
        private readonly SemaphoreSlim _slots = new(concurrency);
        private readonly object _out = new();
        private long _steps;
        private long _errors;
        private long _claims;
        private long _emptyClaims;
        private long _first = long.MaxValue;
        private long _last;

        public long Steps => Interlocked.Read(ref _steps);
        public long Errors => Interlocked.Read(ref _errors);
        public long Claims => Interlocked.Read(ref _claims);
        public long EmptyClaims => Interlocked.Read(ref _emptyClaims);
        public long FirstStart => Interlocked.Read(ref _first);
        public long LastEnd => Interlocked.Read(ref _last);

        /// <summary>
        /// Claims as many steps as it may take in hand (free slots plus the prefetch) and runs each in a slot as one frees, until cancelled, or (<paramref name="stopWhenIdle"/>)
        /// until a claim made while no slot was busy finds nothing: whether slots were busy is decided before the claim,
        /// since a slot that finishes during it may have made steps ready that the claim passed over (session 21: the
        /// 7-step DAG's warm-up stopped after 30–50 of its 300 tasks, and every measured find then walked past the rest).
        /// </summary>
        public async Task RunAsync(TimeSpan wait, bool stopWhenIdle, CancellationToken cancellationToken)
        {
            var running = new List<Task>();
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await _free.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break; // stopped while every slot was busy: their steps still finish and report below
                }
                var free = await TakeFreeAsync(cancellationToken);
                running.RemoveAll(t => t.IsCompleted);
                var idle = running.Count == 0; // nothing of this process's can make steps ready during the claim
                IReadOnlyList<StepClaim> claims;
                try
                {
                    claims = await engine.ClaimWorkAsync(new WorkClaimOptions(BenchTemplates.Handlers, free, lease, workerId, _namespaces, wait), cancellationToken);
                }
                catch (TaskerException e) when (e.Code is TaskerErrorCode.Database or TaskerErrorCode.Timeout)
                {
                    _free.Release(free);
                    Interlocked.Increment(ref _errors);
                    Console.Error.WriteLine($"{workerId}: claim: {e.Code}: {e.Message}");
                    continue;
                }
                catch (OperationCanceledException)
                {
                    _free.Release(free);
                    break;
                }
                Interlocked.Increment(ref _claims);
                if (claims.Count < free) _free.Release(free - claims.Count);
                if (claims.Count == 0)
                {
                    Interlocked.Increment(ref _emptyClaims);
                    if (stopWhenIdle && idle) return;
                    continue;
                }
                foreach (var claim in claims)
                    running.Add(Task.Run(() => RunSlotAsync(claim, cancellationToken)));
                // The steps just claimed start before this claimer asks again (usually an empty find, then a wait): the
                // slots were queued on this thread, and without the yield they waited behind that next claim's round
                // trips (strace of the latency run: every step started only after the next claim's COMMIT).
                await Task.Yield();
            }
            await Task.WhenAll(running);
        }

        /// <summary>
        /// After one free place in hand: takes every free one, giving busy ones up to <see cref="BatchWait"/> to free up
        /// until half are free (the bindings' workers wait for all). A claim across tasks costs about as much for 8 steps
        /// as for 1, and the reports on their way free their places within a round trip.
        /// </summary>
        private async ValueTask<int> TakeFreeAsync(CancellationToken cancellationToken)
        {
            var free = 1;
            while (_free.Wait(0)) free++;
            var started = Stopwatch.GetTimestamp();
            while (free < (concurrency + prefetch + 1) / 2)
            {
                var left = BatchWait - Stopwatch.GetElapsedTime(started);
                try
                {
                    if (left <= TimeSpan.Zero || !await _free.WaitAsync(left, cancellationToken)) break;
                }
                catch (OperationCanceledException)
                {
                    break; // the claim then sees the cancellation and gives back what was taken
                }
                free++;
                while (_free.Wait(0)) free++;
            }
            return free;
        }

        private static readonly TimeSpan BatchWait = TimeSpan.FromMilliseconds(10);

        /// <summary>
        /// One chain: the claimed step, then the next steps of its task that claim_next hands back, one at a time, each
        /// in a slot taken when it starts and given back when its handler returns (session 37: a slot kept through the
        /// report's commit idled; the 7-step DAG went from 1.4-1.5× to 2.0-2.2× graphile-worker's defaults). A report
        /// claims only its task's next step, as the bindings' workers do: the other steps it made ready go to the next
        /// work claim, which writes them together with other tasks' claims; a report's follow-ups of one task cannot
        /// share a write (one task's changes take turns), and filling every free slot through claim_next took twice the
        /// statements a DAG step (docs/performance.md, session 18).
        /// </summary>
        private async Task RunSlotAsync(StepClaim first, CancellationToken cancellationToken)
        {
            var next = new ClaimOptions(1, lease, workerId, BenchTemplates.Handlers);
            var placeHeld = true; // this chain's place in hand (_free)
            var slotHeld = false; // a slot (_slots), while a handler runs
            try
            {
                await _slots.WaitAsync(CancellationToken.None);
                slotHeld = true;
                StepClaim? step = first;
                while (step is not null)
                {
                    var started = Stopwatch.GetTimestamp();
                    UpdateMin(ref _first, started);
                    if (latency && step.Context.TryGetProperty("id", out var id))
                        lock (_out) Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"START {id.GetInt64()} {started}"));
                    // The handler is done: its slot runs a step in hand while the report is on its way, and the step the
                    // report claims waits for a slot behind them. The task's last step can claim nothing, so its place
                    // in hand goes to the claimer too.
                    _slots.Release();
                    slotHeld = false;
                    var last = step.StepsLeft == 0;
                    if (last)
                    {
                        placeHeld = false;
                        _free.Release();
                    }
                    try
                    {
                        var result = await engine.CompleteAndClaimAsync(step.TaskUuid, step.StepUuid, step.ClaimToken, JsonValues.EmptyObject,
                            null, null, last ? null : next, CancellationToken.None);
                        Interlocked.Increment(ref _steps);
                        UpdateMax(ref _last, Stopwatch.GetTimestamp());
                        step = result.Claims.Count > 0 ? result.Claims[0] : null;
                    }
                    catch (TaskerException e)
                    {
                        Interlocked.Increment(ref _errors);
                        Console.Error.WriteLine($"{workerId}: complete: {e.Code}: {e.Message}");
                        step = null;
                    }
                    if (cancellationToken.IsCancellationRequested) break;
                    if (step is null) continue;
                    await _slots.WaitAsync(CancellationToken.None);
                    slotHeld = true;
                }
            }
            finally
            {
                if (slotHeld) _slots.Release();
                if (placeHeld) _free.Release();
            }
        }

        private static void UpdateMin(ref long target, long value)
        {
            long current;
            while (value < (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current) { }
        }

        private static void UpdateMax(ref long target, long value)
        {
            long current;
            while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current) { }
        }
    }
}
