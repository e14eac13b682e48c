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
/// </summary>
internal static class Latency
{
    private const int Blocks = 4;
    private const int WarmSamples = 5;
    private static readonly TimeSpan Gap = TimeSpan.FromMilliseconds(30);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(NpgsqlDataSource admin, string node, string graphileDir, string url, int samples, int concurrency, int warmupTasks)
    {
        var schema = $"wlat_{Guid.NewGuid().ToString("N")[..8]}";
        // A throwaway cluster with one role: the created tasks' notifications may carry them (the worker's claim is then one
        // round trip; docs/operations.md, AnnounceCreatedTasks).
        var store = await PostgresStore.OpenAsync(new PostgresStoreOptions
        {
            ConnectionString = url, Schema = schema, ApplicationName = "tasker-bench-latency", AnnounceCreatedTasks = true,
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

            var taskerMs = new List<double>();
            var graphileMs = new List<double>();
            var taskerCallMs = new List<double>(); // the enqueue call alone (its commit sends the notification)
            var graphileCallMs = new List<double>();
            var id = 0L;
            // Unmeasured: the path from a notification to a step's start runs a few times in each worker first. The C#
            // worker is compiled as it runs, and its warm-up claimed queued work only, never a task announced to it.
            for (var i = 0; i < WarmSamples; i++)
            {
                var n = ++id;
                var before = Stopwatch.GetTimestamp();
                await engine.CreateTaskAsync(Request("latency", n));
                await StartedAsync(tasker, n, before);
                await Task.Delay(Gap);
                n = ++id;
                idParameter.TypedValue = n;
                before = Stopwatch.GetTimestamp();
                await addJob.ExecuteNonQueryAsync();
                await StartedAsync(graphile, n, before);
                await Task.Delay(Gap);
            }
            var perBlock = Math.Max(1, samples / Blocks);
            for (var b = 0; b < Blocks; b++)
            {
                for (var i = 0; i < perBlock; i++)
                {
                    var n = ++id;
                    var before = Stopwatch.GetTimestamp();
                    await engine.CreateTaskAsync(Request("latency", n));
                    taskerCallMs.Add(Stopwatch.GetElapsedTime(before).TotalMilliseconds);
                    taskerMs.Add(await StartedAsync(tasker, n, before));
                    await Task.Delay(Gap);
                }
                for (var i = 0; i < perBlock; i++)
                {
                    var n = ++id;
                    idParameter.TypedValue = n;
                    var before = Stopwatch.GetTimestamp();
                    await addJob.ExecuteNonQueryAsync();
                    graphileCallMs.Add(Stopwatch.GetElapsedTime(before).TotalMilliseconds);
                    graphileMs.Add(await StartedAsync(graphile, n, before));
                    await Task.Delay(Gap);
                }
            }
            await tasker.SendAsync("STOP");
            await graphile.SendAsync("STOP");

            Console.WriteLine();
            Console.WriteLine($"Enqueue-to-start latency: {perBlock * Blocks} samples each, one at a time ({Gap.TotalMilliseconds:N0} ms apart), {Blocks} alternating blocks, one waiting worker process each with concurrency {concurrency}, load {SideBySide.Load()}.");
            Console.WriteLine();
            Console.WriteLine("| system | from | p50 | p95 | p99 | max | the enqueue call alone, p50 |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
            Print("Tasker worker mode (C#), 1-step template", "`CreateTaskAsync` → step handler starts", taskerMs, taskerCallMs);
            Print("graphile-worker 0.18, defaults", "`add_job` → task starts", graphileMs, graphileCallMs);
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

    private static async Task<double> StartedAsync(ChildProcess worker, long id, long before)
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        while (true)
        {
            var (started, ticks) = await worker.Starts.ReadAsync(cts.Token);
            if (started == id) return (ticks - before) / 1e6; // ns → ms
        }
    }

    private static void Print(string system, string from, List<double> ms, List<double> callMs)
    {
        var s = ms.Order().ToArray();
        var call = callMs.Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {system} | {from} | {Percentile(s, 0.50):N2} ms | {Percentile(s, 0.95):N2} ms | {Percentile(s, 0.99):N2} ms | {s[^1]:N2} ms | {Percentile(call, 0.50):N2} ms |"));
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
