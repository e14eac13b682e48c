using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tasker.Core;

namespace Tasker.Postgres.Bench.WorkMode;

/// <summary>
/// One worker process in worker mode (<c>work-worker</c>): <c>--concurrency</c> lanes, each claiming ready steps
/// across tasks with <see cref="TaskerEngine.ClaimWorkAsync"/> (waiting for work), running the no-op handler and
/// reporting with <see cref="TaskerEngine.CompleteAndClaimAsync"/> (claim_next: the same task's follow-ups, as the
/// bindings' workers do). Driven by the <c>side-by-side</c> orchestrator over stdin/stdout lines:
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
        var batch = cli.Int("claim-batch", 1);
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
            // Not measured: JIT, tiering, the pool and the caches settle here. Each lane stops at its first empty claim.
            var w = new Lanes(engine, workerId, lease, batch, warmup, latency: false);
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(() => w.LaneAsync(TimeSpan.Zero, CancellationToken.None))));
        }
        Console.Out.WriteLine("READY");
        Console.Out.Flush();
        if (Console.In.ReadLine() != "GO") return 3;

        var lanes = new Lanes(engine, workerId, lease, batch, cli.String("namespace", BenchTemplates.Namespace), latency);
        var baseline = store.Statistics;
        using var stop = new CancellationTokenSource();
        var running = Enumerable.Range(0, concurrency)
            .Select(_ => Task.Run(() => lanes.LaneAsync(TimeSpan.FromSeconds(1), stop.Token))).ToArray();
        var line = await Task.Run(Console.In.ReadLine);
        await stop.CancelAsync();
        try { await Task.WhenAll(running); }
        catch (OperationCanceledException) { }
        var stats = store.Statistics.Since(baseline);
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"REPORT {lanes.Steps} {lanes.FirstStart} {lanes.LastEnd} {lanes.Errors} {stats.Statements} {stats.WriteStatements} {stats.Conflicts} {lanes.Claims} {lanes.EmptyClaims}"));
        Console.Out.Flush();
        return line == "STOP" ? 0 : 3;
    }

    /// <summary>The lanes' shared counters and loop.</summary>
    private sealed class Lanes(TaskerEngine engine, string workerId, TimeSpan lease, int batch, string ns, bool latency)
    {
        private readonly IReadOnlySet<string> _namespaces = new HashSet<string>(StringComparer.Ordinal) { ns };
        private readonly ClaimOptions _next = new(1, lease, workerId, BenchTemplates.Handlers);
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

        /// <summary>Claims and runs steps until cancelled, or until a claim that waited <paramref name="wait"/> found nothing (zero wait).</summary>
        public async Task LaneAsync(TimeSpan wait, CancellationToken cancellationToken)
        {
            var options = new WorkClaimOptions(BenchTemplates.Handlers, batch, lease, workerId, _namespaces, wait);
            var queue = new Queue<StepClaim>();
            while (!cancellationToken.IsCancellationRequested)
            {
                IReadOnlyList<StepClaim> claims;
                try
                {
                    claims = await engine.ClaimWorkAsync(options, cancellationToken);
                }
                catch (TaskerException e) when (e.Code is TaskerErrorCode.Database or TaskerErrorCode.Timeout)
                {
                    Interlocked.Increment(ref _errors);
                    Console.Error.WriteLine($"{workerId}: claim: {e.Code}: {e.Message}");
                    continue;
                }
                Interlocked.Increment(ref _claims);
                if (claims.Count == 0)
                {
                    Interlocked.Increment(ref _emptyClaims);
                    if (wait == TimeSpan.Zero) return;
                    continue;
                }
                foreach (var c in claims) queue.Enqueue(c);
                while (queue.TryDequeue(out var step))
                {
                    var started = Stopwatch.GetTimestamp();
                    UpdateMin(ref _first, started);
                    if (latency && step.Context.TryGetProperty("id", out var id))
                        lock (_out) Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"START {id.GetInt64()} {started}"));
                    try
                    {
                        var result = await engine.CompleteAndClaimAsync(step.TaskUuid, step.StepUuid, step.ClaimToken, JsonValues.EmptyObject,
                            null, null, _next, cancellationToken);
                        Interlocked.Increment(ref _steps);
                        UpdateMax(ref _last, Stopwatch.GetTimestamp());
                        foreach (var c in result.Claims) queue.Enqueue(c);
                    }
                    catch (TaskerException e)
                    {
                        Interlocked.Increment(ref _errors);
                        Console.Error.WriteLine($"{workerId}: complete: {e.Code}: {e.Message}");
                    }
                }
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
