using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using Tasker.Core;

namespace Tasker.Postgres.Bench;

/// <summary>
/// Ready-step computation in process (over the loaded task: states, attempts and the DAG's parent lists) versus the
/// same computation as a SQL query over the same rows (<see cref="ReadinessQuery"/>). Both must return the same
/// steps; the bench checks that before timing.
/// </summary>
internal static class ReadinessBench
{
    public static async Task<int> RunAsync(Cli cli)
    {
        var iterations = cli.Int("iterations", 200);
        var schema = "tasker_bench_ready_" + Guid.NewGuid().ToString("N")[..8];
        var store = await PostgresStore.OpenAsync(new PostgresStoreOptions { ConnectionString = cli.DatabaseUrl(), Schema = schema, ApplicationName = "tasker-bench" });
        await using var engine = new TaskerEngine(store);
        try
        {
            Console.WriteLine("| DAG | steps | ready | in-process full pass (median) | SQL query, client round trip (median) | SQL server execution (EXPLAIN ANALYZE) | ratio (round trip / in-process) |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            await MeasureAsync(engine, store, "mixed (7 steps)", BenchTemplates.Mixed(), "mixed", 7, iterations);
            var steps = cli.Int("steps", 1000);
            await MeasureAsync(engine, store, $"layered ({steps} steps, half complete)", BenchTemplates.Layered(steps), $"layered_{steps}", steps, iterations);
        }
        finally
        {
            await using var connection = await store.DataSource.OpenConnectionAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }
        return 0;
    }

    private static async Task MeasureAsync(TaskerEngine engine, PostgresStore store, string label, string yaml, string name, int steps, int iterations)
    {
        await engine.RegisterTemplateAsync(yaml);
        var task = (await engine.CreateTaskAsync(new TaskRequest { Namespace = BenchTemplates.Namespace, Name = name })).Task.TaskUuid;
        await using var connection = await store.DataSource.OpenConnectionAsync();
        // Mid-run: the first half of the steps (in declaration order, so whole layers) complete.
        await using (var update = new NpgsqlCommand("UPDATE tasker_workflow_steps SET state = 'complete', attempts = 1 WHERE task_uuid = $1 AND step_index < $2", connection))
        {
            update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = task });
            update.Parameters.Add(new NpgsqlParameter<int> { TypedValue = steps / 2 });
            await update.ExecuteNonQueryAsync();
        }

        var now = DateTimeOffset.UtcNow;
        var loaded = await store.ReadTaskAsync(task, t => t, CancellationToken.None);
        var inProcess = ReadyInProcess(loaded, now);
        var fromSql = await ReadySqlAsync(connection, task, now);
        if (!inProcess.SequenceEqual(fromSql))
            throw new InvalidOperationException($"{label}: in-process and SQL readiness disagree ({inProcess.Count} vs {fromSql.Count} steps)");

        // In process: many passes per sample so the timer resolution does not matter.
        var passes = Math.Max(1, 200_000 / steps);
        for (var i = 0; i < passes; i++) ReadyInProcess(loaded, now);
        var memory = new List<double>();
        for (var i = 0; i < 21; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            for (var k = 0; k < passes; k++) ReadyInProcess(loaded, now);
            memory.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds / passes);
        }

        for (var i = 0; i < 20; i++) await ReadySqlAsync(connection, task, now);
        var sql = new List<double>();
        for (var i = 0; i < iterations; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            await ReadySqlAsync(connection, task, now);
            sql.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }
        var server = await ServerExecutionMicrosAsync(connection, task, now);

        var m = Median(memory);
        var s = Median(sql);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {label} | {steps} | {inProcess.Count} | {Format(m)} | {Format(s)} | {Format(server)} | {s / m:N0}x |"));
    }

    /// <summary>The full readiness pass over a loaded task, using only its public shape: the SQL's twin.</summary>
    private static List<int> ReadyInProcess(WorkflowTask task, DateTimeOffset now)
    {
        var ready = new List<int>();
        // The engine keeps steps in an array; index it directly (an IReadOnlyList call per access would be measured too).
        var steps = task.Steps as WorkflowStep[] ?? [.. task.Steps];
        var graph = task.Graph;
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            if (!(step.State == StepState.Pending || step.State == StepState.WaitingForRetry && (step.NextRetryAt is null || step.NextRetryAt <= now)))
                continue;
            if (step.Attempts >= step.MaxAttempts) continue;
            var blocked = false;
            foreach (var parent in graph.ParentsOf(i))
                if (steps[parent].State is not (StepState.Complete or StepState.ResolvedManually))
                {
                    blocked = true;
                    break;
                }
            if (!blocked) ready.Add(i);
        }
        return ready;
    }

    private static async Task<List<int>> ReadySqlAsync(NpgsqlConnection connection, Guid task, DateTimeOffset now)
    {
        await using var command = new NpgsqlCommand(ReadinessQuery.Sql, connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = task });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = now.UtcDateTime });
        var ready = new List<int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            ready.Add(reader.GetInt32(0));
        return ready;
    }

    private static async Task<double> ServerExecutionMicrosAsync(NpgsqlConnection connection, Guid task, DateTimeOffset now)
    {
        await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + ReadinessQuery.Sql, connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = task });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = now.UtcDateTime });
        var samples = new List<double>();
        for (var i = 0; i < 11; i++)
        {
            var plan = (string)(await command.ExecuteScalarAsync())!;
            using var document = JsonDocument.Parse(plan);
            samples.Add(document.RootElement[0].GetProperty("Execution Time").GetDouble() * 1000);
        }
        return Median(samples);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static string Format(double micros) =>
        micros >= 1000 ? string.Create(CultureInfo.InvariantCulture, $"{micros / 1000:N2} ms") : string.Create(CultureInfo.InvariantCulture, $"{micros:N2} µs");
}
