using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Tasker.Core;

namespace Tasker.Postgres.Bench;

/// <summary>
/// Executed no-op steps per second with 1, 2 and 4 worker processes on one database. For each process count: a fresh
/// schema, N seeded tasks of the 7-step mixed DAG, W worker processes started with <c>dotnet this.dll worker</c>; the
/// clock runs from the first claim in any process to the last recorded step in any process.
/// </summary>
internal static class ThroughputBench
{
    private const int WarmupTasks = 600;

    public static async Task<int> RunAsync(Cli cli)
    {
        var workerCounts = cli.String("workers", "1,2,4").Split(',').Select(w => int.Parse(w, CultureInfo.InvariantCulture)).ToArray();
        var tasks = cli.Int("tasks", 1000);
        var lanes = cli.Int("lanes", 4);
        var batch = cli.Int("claim-batch", 16);
        var url = cli.DatabaseUrl();
        var shared = cli.Flag("shared");
        var repeat = cli.Int("repeat", 1);

        Console.WriteLine($"tasks: {tasks} x 7-step mixed DAG, {lanes} lanes per process, claim batch {batch}, {WarmupTasks} warm-up tasks per process (not timed), durable commits, median of {repeat} run(s)");
        Console.WriteLine(shared
            ? "mode: shared (every process cycles through every task, as after a re-enqueue storm)"
            : "mode: partitioned (each task's job goes to one process, as with a job queue)");
        Console.WriteLine();
        Console.WriteLine("| worker processes | steps | wall time | steps/s | all runs (steps/s) | statements/step | round trips/step | claim p50 | claim p99 | CAS conflicts | retries |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var workers in workerCounts)
        {
            var runs = new List<Run>();
            for (var r = 0; r < repeat; r++)
                runs.Add(await RunOnceAsync(url, workers, tasks, lanes, batch, shared));
            var m = runs.OrderBy(x => x.StepsPerSecond).ElementAt(runs.Count / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {workers} | {m.Steps:N0} | {m.Wall.TotalSeconds:N2} s | **{m.StepsPerSecond:N0}** | {string.Join(" / ", runs.Select(x => x.StepsPerSecond.ToString("N0", CultureInfo.InvariantCulture)))} | " +
                $"{m.StatementsPerStep:N2} | {m.RoundTripsPerStep:N2} | {m.ClaimP50Ms:N2} ms | {m.ClaimP99Ms:N2} ms | {m.Conflicts:N0} | {m.Retries:N0} |"));
        }
        return 0;
    }

    private sealed record Run(long Steps, TimeSpan Wall, double StepsPerSecond, double StatementsPerStep, double RoundTripsPerStep, double ClaimP50Ms, double ClaimP99Ms, long Conflicts, long Retries);

    private static async Task<Run> RunOnceAsync(string url, int workers, int taskCount, int lanes, int batch, bool shared)
    {
        var schema = $"tasker_bench_{workers}w_{Guid.NewGuid().ToString("N")[..8]}";
        var options = new PostgresStoreOptions { ConnectionString = url, Schema = schema, ApplicationName = "tasker-bench" };
        var store = await PostgresStore.OpenAsync(options);
        await using var engine = new TaskerEngine(store);
        var dir = Directory.CreateTempSubdirectory("tasker-bench-");
        try
        {
            await Seeder.SeedAsync(engine, taskCount, failEvery: 0);
            for (var w = 0; w < workers; w++)
                await Seeder.SeedAsync(engine, WarmupTasks, failEvery: 0, ns: $"warmup_{w}");
            var processes = new List<Process>();
            for (var w = 0; w < workers; w++)
                processes.Add(Start(url, schema, w, workers, taskCount, lanes, batch, shared, Path.Combine(dir.FullName, $"w{w}.json")));
            // Everyone warms up on their own tasks first; the measured run starts for all at once.
            foreach (var p in processes)
            {
                var line = await p.StandardOutput.ReadLineAsync();
                if (line != "READY")
                    throw new InvalidOperationException($"worker did not get ready ({line}): {await p.StandardError.ReadToEndAsync()}");
            }
            foreach (var p in processes)
                await p.StandardInput.WriteLineAsync("GO");
            foreach (var p in processes)
            {
                await p.WaitForExitAsync();
                if (p.ExitCode != 0)
                    throw new InvalidOperationException($"worker exited with {p.ExitCode}: {await p.StandardError.ReadToEndAsync()}");
            }

            var reports = Enumerable.Range(0, workers).Select(w => WorkerReport.Read(Path.Combine(dir.FullName, $"w{w}.json"))).ToList();
            var complete = await engine.ListTasksAsync(new TaskQuery(State: TaskState.Complete, Namespace: BenchTemplates.Namespace, Limit: 10_000));
            if (complete.Count != taskCount)
                throw new InvalidOperationException($"{complete.Count} of {taskCount} tasks complete");

            var steps = reports.Sum(r => r.StepsExecuted);
            var wall = reports.Max(r => r.LastStepAt) - reports.Min(r => r.FirstClaimAt);
            var statements = reports.Sum(r => r.Statistics.Statements);
            var roundTrips = reports.Sum(r => r.Statistics.RoundTrips);
            var executed = reports.Sum(r => r.Statistics.StepsExecuted);
            var latencies = reports.SelectMany(r => r.ClaimLatencyMicros).Order().ToArray();
            return new Run(steps, wall, steps / wall.TotalSeconds, (double)statements / executed, (double)roundTrips / executed,
                Percentile(latencies, 0.50) / 1000, Percentile(latencies, 0.99) / 1000,
                reports.Sum(r => r.Statistics.Conflicts), reports.Sum(r => r.Statistics.Retries));
        }
        finally
        {
            dir.Delete(recursive: true);
            await using var connection = await store.DataSource.OpenConnectionAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private static Process Start(string url, string schema, int index, int workers, int tasks, int lanes, int batch, bool shared, string results)
    {
        var info = new ProcessStartInfo(DotnetHost(), [
            Path.Combine(AppContext.BaseDirectory, "Tasker.Postgres.Bench.dll"), "worker", "--database-url", url, "--schema", schema,
            "--worker-id", $"w{index}", "--lanes", lanes.ToString(CultureInfo.InvariantCulture),
            "--claim-batch", batch.ToString(CultureInfo.InvariantCulture),
            "--offset", (index * tasks / workers).ToString(CultureInfo.InvariantCulture), "--results", results,
            "--warmup-namespace", $"warmup_{index}", "--wait-for-go",
        ])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (!shared)
        {
            info.ArgumentList.Add("--partition");
            info.ArgumentList.Add($"{index}/{workers}");
        }
        return Process.Start(info) ?? throw new InvalidOperationException("could not start a worker process");
    }

    /// <summary>The dotnet host running this process (so workers use the same runtime), or "dotnet" from PATH.</summary>
    public static string DotnetHost() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    private static double Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
