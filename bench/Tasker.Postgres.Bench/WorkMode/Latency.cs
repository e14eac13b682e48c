using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Tasker.Core;

namespace Tasker.Postgres.Bench.WorkMode;

/// <summary>
/// Enqueue-to-start latency: one Tasker worker process and one graphile-worker process wait for work (each with
/// the same concurrency); the orchestrator creates one task (Tasker, 1-step template: <c>CreateTaskAsync</c>) or adds
/// one job (graphile: <c>graphile_worker.add_job</c>) at a time and times from just before the call to the moment the
/// worker's handler starts (both report CLOCK_MONOTONIC). Blocks of each alternate so both see the same machine.
/// Each pause (between one start and the next enqueue) is a run of its own: a long one finds every worker idle and
/// its process cold; a short one is a steady stream of work, where announcements come close together.
/// </summary>
internal static class Latency
{
    private const int Blocks = 4;
    private const int WarmSamples = 5;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(NpgsqlDataSource admin, string node, string graphileDir, string url, int samples, int concurrency, int warmupTasks,
        IReadOnlyList<int> pausesMs)
    {
        var schema = $"wlat_{Guid.NewGuid().ToString("N")[..8]}";
        // The library's defaults: the created tasks' notifications carry them (AnnounceCreatedTasks), so a waiting worker's
        // claim is one round trip.
        var store = await PostgresStore.OpenAsync(new PostgresStoreOptions
        {
            ConnectionString = url, Schema = schema, ApplicationName = "tasker-bench-latency",
        });
        await using var engine = new TaskerEngine(store);
        var c = concurrency.ToString(CultureInfo.InvariantCulture);
        try
        {
            await engine.RegisterTemplateAsync(BenchTemplates.Single("latency"));
            await engine.RegisterTemplateAsync(BenchTemplates.Single("warmup_0"));
            for (var i = 0; i < warmupTasks; i++)
                await engine.CreateTaskAsync(Request("warmup_0", i));
            await SideBySide.ExecuteAsync(admin, "DELETE FROM graphile_worker._private_jobs");
            await SideBySide.ExecuteAsync(admin, "SELECT graphile_worker.add_job('warm_0', json_build_object('id', i)) FROM generate_series(1, 2000) i");

            await using var tasker = new ChildProcess(ThroughputBench.DotnetHost(), [
                Path.Combine(AppContext.BaseDirectory, "Tasker.Postgres.Bench.dll"), "work-worker", "--database-url", url, "--schema", schema,
                "--worker-id", "lat", "--concurrency", c, "--warmup-namespace", "warmup_0", "--namespace", "latency", "--latency"]);
            await using var graphile = new ChildProcess(node, [Path.Combine(graphileDir, "worker.js"), "--url", url, "--concurrency", c,
                "--warm-task", "warm_0", "--warm-jobs", "2000", "--latency"], graphileDir);
            await tasker.ExpectAsync("READY", TimeSpan.FromMinutes(3));
            await graphile.ExpectAsync("READY", TimeSpan.FromMinutes(3));
            await tasker.SendAsync("GO");
            await graphile.SendAsync("GO");
            await Task.Delay(TimeSpan.FromSeconds(1)); // both listening

            await using var connection = await admin.OpenConnectionAsync();
            await using var addJob = new NpgsqlCommand("SELECT graphile_worker.add_job('lat', json_build_object('id', $1))", connection);
            var idParameter = new NpgsqlParameter<long>();
            addJob.Parameters.Add(idParameter);
            await addJob.PrepareAsync();

            var id = 0L;
            // Unmeasured: the path from a notification to a step's start runs a few times in each worker first. The C#
            // worker is compiled as it runs, and its warm-up claimed queued work only, never a task announced to it.
            var warm = new Series();
            for (var i = 0; i < WarmSamples; i++)
            {
                await TaskerSampleAsync(engine, tasker, ++id, warm, TimeSpan.FromMilliseconds(30));
                await GraphileSampleAsync(addJob, idParameter, graphile, ++id, warm, TimeSpan.FromMilliseconds(30));
            }
            var perBlock = Math.Max(1, samples / Blocks);
            var results = new List<(int PauseMs, Series Tasker, Series Graphile)>();
            foreach (var pauseMs in pausesMs)
            {
                var pause = TimeSpan.FromMilliseconds(pauseMs);
                var (taskerSeries, graphileSeries) = (new Series(), new Series());
                for (var b = 0; b < Blocks; b++)
                {
                    for (var i = 0; i < perBlock; i++)
                        await TaskerSampleAsync(engine, tasker, ++id, taskerSeries, pause);
                    for (var i = 0; i < perBlock; i++)
                        await GraphileSampleAsync(addJob, idParameter, graphile, ++id, graphileSeries, pause);
                }
                results.Add((pauseMs, taskerSeries, graphileSeries));
            }
            await tasker.SendAsync("STOP");
            await graphile.SendAsync("STOP");

            Console.WriteLine();
            Console.WriteLine($"Enqueue-to-start latency: {perBlock * Blocks} samples each, one at a time (the next enqueued a pause after the last one started), {Blocks} alternating blocks, one waiting worker process each with concurrency {concurrency}, load {SideBySide.Load()}.");
            Console.WriteLine();
            Console.WriteLine("| system | from | pause | p50 | p95 | p99 | max | the enqueue call alone, p50 |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
            foreach (var (pauseMs, taskerSeries, graphileSeries) in results)
            {
                Print("Tasker worker mode (C#), 1-step template", "`CreateTaskAsync` → step handler starts", pauseMs, taskerSeries);
                Print("graphile-worker 0.18, defaults", "`add_job` → task starts", pauseMs, graphileSeries);
            }
        }
        finally
        {
            await SideBySide.ExecuteAsync(admin, $"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    private static TaskRequest Request(string ns, long id) => new()
    {
        Namespace = ns,
        Name = "single",
        Context = JsonValues.Parse($"{{\"id\": {id}}}", "context"),
        Initiator = "bench",
    };

    /// <summary>A run's latencies and the times of its enqueue calls alone, in milliseconds.</summary>
    private sealed class Series
    {
        public List<double> Ms { get; } = [];
        public List<double> CallMs { get; } = [];
    }

    private static async Task TaskerSampleAsync(TaskerEngine engine, ChildProcess worker, long id, Series series, TimeSpan pause)
    {
        var before = Stopwatch.GetTimestamp();
        await engine.CreateTaskAsync(Request("latency", id));
        series.CallMs.Add(Stopwatch.GetElapsedTime(before).TotalMilliseconds);
        series.Ms.Add(await StartedAsync(worker, id, before));
        await Task.Delay(pause);
    }

    private static async Task GraphileSampleAsync(NpgsqlCommand addJob, NpgsqlParameter<long> idParameter, ChildProcess worker, long id,
        Series series, TimeSpan pause)
    {
        idParameter.TypedValue = id;
        var before = Stopwatch.GetTimestamp();
        await addJob.ExecuteNonQueryAsync();
        series.CallMs.Add(Stopwatch.GetElapsedTime(before).TotalMilliseconds);
        series.Ms.Add(await StartedAsync(worker, id, before));
        await Task.Delay(pause);
    }

    private static async Task<double> StartedAsync(ChildProcess worker, long id, long before)
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        while (true)
        {
            var (started, ticks) = await worker.Starts.ReadAsync(cts.Token);
            if (started == id) return (ticks - before) / 1e6; // ns → ms
        }
    }

    private static void Print(string system, string from, int pauseMs, Series series)
    {
        var s = series.Ms.Order().ToArray();
        var call = series.CallMs.Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {system} | {from} | {pauseMs} ms | {Percentile(s, 0.50):N2} ms | {Percentile(s, 0.95):N2} ms | {Percentile(s, 0.99):N2} ms | {s[^1]:N2} ms | {Percentile(call, 0.50):N2} ms |"));
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
