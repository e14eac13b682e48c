using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Tasker.Core;

namespace Tasker.Postgres.Bench.WorkMode;

/// <summary>
/// <c>side-by-side</c>: Tasker's worker mode (C# worker processes, <see cref="WorkModeWorker"/>, and Python, Ruby and
/// Node ones, bench/{python,ruby,node}/work_worker.*: each binding's public worker through libtasker) against
/// graphile-worker (bench/graphile/worker.js) on one PostgreSQL, in one session, interleaved: every round runs each
/// configuration once, in a rotating order; the table shows medians and ratios to graphile-worker's defaults. Then
/// enqueue-to-start latency, in alternating blocks. See bench/worker/run.sh.
/// </summary>
internal static class SideBySide
{
    private static readonly TimeSpan Startup = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan DonePoll = TimeSpan.FromMilliseconds(100);

    private enum Kind { TaskerSingle, TaskerDag, GraphileDefault, GraphilePerf, PythonSingle, PythonDag, RubySingle, RubyDag, NodeSingle, NodeDag }

    /// <summary>A configuration; <paramref name="Binding"/> is the binding child that runs it, null for C# and graphile-worker.</summary>
    private sealed record Config(Kind Kind, string Label, int Processes, int Concurrency, int Units, int StepsPerUnit, BindingWorker? Binding = null, int? Prefetch = null);

    /// <summary>
    /// A binding's worker child: its interpreter and bench/&lt;language&gt;/work_worker.*, which speaks the C# child's
    /// protocol with the same options; <see cref="Language"/> (lower case) names it in <c>--only</c> and in the options
    /// (<c>--python-processes</c>...). The children inherit this process's environment: TASKER_LIBRARY_PATH (libtasker)
    /// and the binding's load path (PYTHONPATH, RUBYLIB; the Node child finds bindings/node itself), set by run.sh.
    /// </summary>
    private sealed record BindingWorker(string Language, string Name, string Executable, string Script, string IdPrefix, Kind Single, Kind Dag);

    private sealed record Run(double PerSecond, long Steps, double Seconds, double WorkerCpuMsPerStep, double ServerCpuMsPerStep, double WalBytesPerStep, long Errors,
        double? StatementsPerStep, double? CommitsPerStep, double TransactionsPerStep, string Detail);

    public static async Task<int> RunAsync(Cli cli)
    {
        var url = cli.DatabaseUrl();
        var rounds = cli.Int("rounds", 3);
        var graphileDir = Path.GetFullPath(cli.String("graphile-dir", "bench/graphile"));
        var node = cli.String("node", "node");
        var tp = cli.Int("tasker-processes", 2);
        var tc = cli.Int("tasker-concurrency", 8);
        var tq = Prefetch(cli, "tasker");
        BindingWorker[] bindings =
        [
            Binding("python", "Python", cli.String("python", "python3"), "bench/python/work_worker.py", "py", Kind.PythonSingle, Kind.PythonDag),
            Binding("ruby", "Ruby", cli.String("ruby", "ruby"), "bench/ruby/work_worker.rb", "rb", Kind.RubySingle, Kind.RubyDag),
            Binding("node", "Node", node, "bench/node/work_worker.js", "js", Kind.NodeSingle, Kind.NodeDag),
        ];
        var only = cli.Optional("only");
        var configs = new List<Config>
        {
            new(Kind.GraphileDefault, "graphile-worker 0.18, defaults", 1, 10, cli.Int("graphile-jobs", 20_000), 1),
            new(Kind.GraphilePerf, "graphile-worker 0.18, perfTest settings", 4, 24, cli.Int("perf-jobs", 40_000), 1),
            new(Kind.TaskerSingle, "Tasker worker mode, C#, 1-step template", tp, tc, cli.Int("single-tasks", 10_000), 1, Prefetch: tq),
            new(Kind.TaskerDag, "Tasker worker mode, C#, 7-step DAG", tp, tc, cli.Int("dag-tasks", 2_000), 7, Prefetch: tq),
        };
        foreach (var b in bindings)
        {
            var (processes, concurrency, prefetch) = (cli.Int($"{b.Language}-processes", 2), cli.Int($"{b.Language}-concurrency", 8), Prefetch(cli, b.Language));
            configs.Add(new(b.Single, $"Tasker worker mode, {b.Name}, 1-step template", processes, concurrency, cli.Int("single-tasks", 10_000), 1, b, prefetch));
            configs.Add(new(b.Dag, $"Tasker worker mode, {b.Name}, 7-step DAG", processes, concurrency, cli.Int("dag-tasks", 2_000), 7, b, prefetch));
        }
        if (only is not null)
            configs = configs.Where(c => only.Split(',').Any(o => Selects(o, c))).ToList();

        BindingWorker Binding(string language, string name, string executable, string script, string idPrefix, Kind single, Kind dag) =>
            new(language, name, executable, Path.GetFullPath(cli.String($"{language}-worker", script)), idPrefix, single, dag);

        await using var admin = NpgsqlDataSource.Create(PostgresConnectionStringFor(url));
        var postmaster = await PostmasterAsync(admin);
        Console.WriteLine($"machine: {CpuModel()}, {Environment.ProcessorCount} cores, load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"server: {await ScalarAsync<string>(admin, "SELECT version()")}; fsync={await ScalarAsync<string>(admin, "SHOW fsync")}, synchronous_commit={await ScalarAsync<string>(admin, "SHOW synchronous_commit")}");
        await MigrateGraphileAsync(node, graphileDir, url);

        var runs = configs.ToDictionary(c => c.Kind, _ => new List<Run>());
        // `--only` naming nothing (e.g. `--only none`) runs the latency comparison alone.
        for (var r = 0; r < rounds && configs.Count > 0; r++)
        {
            // Rotate the order every round so no configuration always runs first (or right after another).
            foreach (var config in configs.Skip(r % configs.Count).Concat(configs.Take(r % configs.Count)))
            {
                var run = config.Kind is Kind.GraphileDefault or Kind.GraphilePerf
                    ? await RunGraphileAsync(config, admin, postmaster, node, graphileDir, url, cli.Int("warmup-jobs", 2_000))
                    : await RunTaskerAsync(config, admin, postmaster, url, cli.Int("warmup-tasks", 300));
                runs[config.Kind].Add(run);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {r + 1}: {config.Label}: {run.PerSecond:N0} steps/s ({run.Steps:N0} in {run.Seconds:N2} s), CPU {run.WorkerCpuMsPerStep + run.ServerCpuMsPerStep:N3} ms/step, WAL {run.WalBytesPerStep:N0} B/step, load {Load()} {run.Detail}"));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Throughput: medians of {rounds} interleaved round(s); CPU and WAL per executed step (job), from the run with the median throughput.");
        Console.WriteLine("Statements and commits: Tasker's own counters (C# workers only). Write transactions: every system's, from the server (transaction ids assigned).");
        Console.WriteLine();
        Console.WriteLine("| system | processes × concurrency (+ prefetch) | steps (jobs) | steps/s, median | all runs | × graphile defaults | × graphile perfTest | CPU ms/step: workers | server | total | WAL bytes/step | statements/step | commits/step | write transactions/step |");
        Console.WriteLine("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        double? Median(Kind k) => runs.TryGetValue(k, out var l) && l.Count > 0 ? MedianRun(l).PerSecond : null;
        var baseDefault = Median(Kind.GraphileDefault);
        var basePerf = Median(Kind.GraphilePerf);
        foreach (var c in configs)
        {
            var l = runs[c.Kind];
            var m = MedianRun(l);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Label} | {c.Processes} × {c.Concurrency}{PrefetchLabel(c)} | {m.Steps:N0} | **{m.PerSecond:N0}** | {string.Join(" / ", l.Select(x => x.PerSecond.ToString("N0", CultureInfo.InvariantCulture)))} | " +
                $"{Ratio(m.PerSecond, baseDefault)} | {Ratio(m.PerSecond, basePerf)} | {m.WorkerCpuMsPerStep:N3} | {m.ServerCpuMsPerStep:N3} | {m.WorkerCpuMsPerStep + m.ServerCpuMsPerStep:N3} | {m.WalBytesPerStep:N0} | {m.StatementsPerStep?.ToString("N2", CultureInfo.InvariantCulture) ?? "–"} | {m.CommitsPerStep?.ToString("N2", CultureInfo.InvariantCulture) ?? "–"} | {m.TransactionsPerStep:N3} |"));
        }
        if (runs.Values.Sum(l => l.Sum(x => x.Errors)) is var errors and > 0)
            Console.WriteLine($"\nworker errors (retried or reported on stderr): {errors}");

        var samples = cli.Int("latency-samples", 200);
        if (samples > 0)
            await Latency.RunAsync(admin, node, graphileDir, url, samples, cli.Int("latency-concurrency", 10), cli.Int("warmup-tasks", 300),
                cli.String("latency-pauses", "30,5").Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray());
        Console.WriteLine($"\nload average after: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    /// <summary>
    /// <c>--only</c>: a name part selects the configurations whose name contains it; a binding's ones only when it names
    /// the language too ("python", "ruby", "node"), so <c>--only Single</c> and <c>--only Tasker</c> keep selecting the C#
    /// configurations alone.
    /// </summary>
    private static bool Selects(string part, Config config) =>
        config.Kind.ToString().Contains(part, StringComparison.OrdinalIgnoreCase)
        && (config.Binding is null || part.Contains(config.Binding.Language, StringComparison.OrdinalIgnoreCase));

    /// <summary><c>--tasker-prefetch</c>, <c>--python-prefetch</c>...: given, passed on; else the worker's default (its concurrency).</summary>
    private static int? Prefetch(Cli cli, string language) =>
        cli.Optional($"{language}-prefetch") is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : null;

    private static string PrefetchLabel(Config c) =>
        c.Kind is Kind.GraphileDefault or Kind.GraphilePerf ? "" : $" + {c.Prefetch ?? c.Concurrency}";

    private static string Ratio(double value, double? baseline) =>
        baseline is { } b && b > 0 ? (value / b).ToString("N2", CultureInfo.InvariantCulture) + "×" : "–";

    private static Run MedianRun(List<Run> l) => l.OrderBy(x => x.PerSecond).ElementAt(l.Count / 2);

    internal static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static async Task<Run> RunTaskerAsync(Config config, NpgsqlDataSource admin, int postmaster, string url, int warmupTasks)
    {
        var schema = $"wbench_{Guid.NewGuid().ToString("N")[..8]}";
        var store = await PostgresStore.OpenAsync(new PostgresStoreOptions { ConnectionString = url, Schema = schema, ApplicationName = "tasker-bench-seed", MaxPoolSize = 12 });
        var template = config.StepsPerUnit > 1 ? "mixed" : "single"; // the 7-step DAG, else the 1-step template
        try
        {
            await using (var engine = new TaskerEngine(store))
            {
                await SeedAsync(engine, BenchTemplates.Namespace, template, config.Units, priority: 0);
                // Ahead of the measured work in the order of work, so that a warm-up find does not walk past the whole
                // measured queue (queued first, hence older) to reach its own namespace: that is not what is measured.
                for (var p = 0; p < config.Processes; p++)
                    await SeedAsync(engine, $"warmup_{p}", template, warmupTasks, priority: 1);
            }
            var workers = new List<ChildProcess>();
            try
            {
                for (var p = 0; p < config.Processes; p++)
                {
                    // The same options for every child, C# or binding.
                    string[] Options(string workerId) => ["--database-url", url, "--schema", schema, "--worker-id", workerId,
                        "--concurrency", config.Concurrency.ToString(CultureInfo.InvariantCulture), "--warmup-namespace", $"warmup_{p}", "--namespace", BenchTemplates.Namespace,
                        .. (config.Prefetch is { } prefetch ? new[] { "--prefetch", prefetch.ToString(CultureInfo.InvariantCulture) } : [])];
                    workers.Add(config.Binding is { } b
                        ? new ChildProcess(b.Executable, [b.Script, .. Options($"{b.IdPrefix}{p}")])
                        : new ChildProcess(ThroughputBench.DotnetHost(), [Path.Combine(AppContext.BaseDirectory, "Tasker.Postgres.Bench.dll"), "work-worker", .. Options($"w{p}")]));
                }
                var unfinished = $"SELECT count(*) FROM {schema}.tasker_tasks WHERE namespace = 'bench' AND state IN ('pending', 'in_progress', 'waiting_for_retry')";
                var run = await MeasureAsync(config, workers, admin, postmaster, unfinished);
                var complete = await ScalarAsync<long>(admin, $"SELECT count(*) FROM {schema}.tasker_tasks WHERE namespace = 'bench' AND state = 'complete'");
                if (complete != config.Units)
                    throw new InvalidOperationException($"{complete} of {config.Units} tasks complete");
                return run;
            }
            finally
            {
                foreach (var w in workers) await w.DisposeAsync();
            }
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    private static async Task SeedAsync(TaskerEngine engine, string ns, string template, int count, int priority)
    {
        await engine.RegisterTemplateAsync(template == "mixed" ? BenchTemplates.Mixed(ns) : BenchTemplates.Single(ns));
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
                await engine.CreateTaskAsync(new TaskRequest
                {
                    Namespace = ns,
                    Name = template,
                    Context = JsonValues.Parse($"{{\"id\": {i}}}", "context"),
                    Initiator = "bench",
                    Priority = priority,
                });
        }));
    }

    private static async Task<Run> RunGraphileAsync(Config config, NpgsqlDataSource admin, int postmaster, string node, string dir, string url, int warmupJobs)
    {
        await ExecuteAsync(admin, "DELETE FROM graphile_worker._private_jobs");
        await ExecuteAsync(admin, $"SELECT graphile_worker.add_job('noop', json_build_object('id', i)) FROM generate_series(1, {config.Units}) i");
        for (var p = 0; p < config.Processes; p++)
            await ExecuteAsync(admin, $"SELECT graphile_worker.add_job('warm_{p}', json_build_object('id', i)) FROM generate_series(1, {warmupJobs}) i");
        var workers = new List<ChildProcess>();
        try
        {
            for (var p = 0; p < config.Processes; p++)
            {
                var args = new List<string> { Path.Combine(dir, "worker.js"), "--url", url, "--concurrency", config.Concurrency.ToString(CultureInfo.InvariantCulture),
                    "--warm-task", $"warm_{p}", "--warm-jobs", warmupJobs.ToString(CultureInfo.InvariantCulture) };
                if (config.Kind == Kind.GraphilePerf)
                    args.AddRange(["--perf", "--pool", "25"]);
                workers.Add(new ChildProcess(node, args, dir));
            }
            return await MeasureAsync(config, workers, admin, postmaster, "SELECT count(*) FROM graphile_worker.jobs WHERE task_identifier = 'noop'");
        }
        finally
        {
            foreach (var w in workers) await w.DisposeAsync();
        }
    }

    /// <summary>READY from all, GO to all, poll until nothing is left, then CPU/WAL, STOP and the workers' reports.</summary>
    private static async Task<Run> MeasureAsync(Config config, List<ChildProcess> workers, NpgsqlDataSource admin, int postmaster, string remainingSql)
    {
        foreach (var w in workers) await w.ExpectAsync("READY", Startup);
        var wal0 = await WalAsync(admin);
        var xid0 = await NextTransactionIdAsync(admin);
        var server0 = ProcCpu.ServerSeconds(postmaster);
        var worker0 = workers.Sum(w => ProcCpu.Seconds(w.Pid));
        foreach (var w in workers) await w.SendAsync("GO");
        var limit = Stopwatch.StartNew();
        while (await ScalarAsync<long>(admin, remainingSql) > 0)
        {
            if (limit.Elapsed > RunLimit) throw new InvalidOperationException($"{config.Label}: not done after {RunLimit}");
            await Task.Delay(DonePoll);
        }
        var wal = await WalAsync(admin) - wal0;
        var transactions = await NextTransactionIdAsync(admin) - xid0;
        var server = ProcCpu.ServerSeconds(postmaster) - server0;
        var worker = workers.Sum(w => ProcCpu.Seconds(w.Pid)) - worker0;
        foreach (var w in workers) await w.SendAsync("STOP");
        long steps = 0, first = long.MaxValue, last = 0, errors = 0, statements = 0, updates = 0, conflicts = 0, claims = 0, empty = 0;
        var tasker = false;
        foreach (var w in workers)
        {
            var p = (await w.ExpectAsync("REPORT", Startup)).Split(' ');
            var n = long.Parse(p[1], CultureInfo.InvariantCulture);
            steps += n;
            errors += long.Parse(p[4], CultureInfo.InvariantCulture);
            if (p.Length > 9)
            {
                tasker = true;
                statements += long.Parse(p[5], CultureInfo.InvariantCulture);
                updates += long.Parse(p[6], CultureInfo.InvariantCulture);
                conflicts += long.Parse(p[7], CultureInfo.InvariantCulture);
                claims += long.Parse(p[8], CultureInfo.InvariantCulture);
                empty += long.Parse(p[9], CultureInfo.InvariantCulture);
            }
            if (n == 0) continue;
            first = Math.Min(first, long.Parse(p[2], CultureInfo.InvariantCulture));
            last = Math.Max(last, long.Parse(p[3], CultureInfo.InvariantCulture));
        }
        var expected = (long)config.Units * config.StepsPerUnit;
        if (steps != expected)
            throw new InvalidOperationException($"{config.Label}: {steps} steps ran, expected {expected}");
        var seconds = (last - first) / 1e9; // both sides report CLOCK_MONOTONIC nanoseconds
        return new Run(steps / seconds, steps, seconds, worker * 1000 / steps, server * 1000 / steps, (double)wal / steps, errors,
            tasker ? (double)statements / steps : null, tasker ? (double)updates / steps : null, (double)transactions / steps,
            tasker ? $"statements {statements}, write commits {updates}, lost compare-and-sets {conflicts}, work claims {claims} ({empty} empty)" : "");
    }

    private static async Task MigrateGraphileAsync(string node, string dir, string url)
    {
        await using var migrate = new ChildProcess(node, [Path.Combine(dir, "worker.js"), "--url", url, "--migrate"], dir);
        await migrate.ExpectAsync("MIGRATED", Startup);
    }

    private static async Task<int> PostmasterAsync(NpgsqlDataSource admin) =>
        ProcCpu.ParentOf(await ScalarAsync<int>(admin, "SELECT pg_backend_pid()"));

    private static Task<long> WalAsync(NpgsqlDataSource admin) =>
        ScalarAsync<long>(admin, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint");

    /// <summary>
    /// One past the newest finished transaction id: the difference counts the transactions that were assigned an id in
    /// between, i.e. wrote (committed or rolled back), of every client, give or take one still open at either end;
    /// reading it assigns none, and the polls in between only read.
    /// </summary>
    private static Task<long> NextTransactionIdAsync(NpgsqlDataSource admin) =>
        ScalarAsync<long>(admin, "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint");

    internal static async Task<T> ScalarAsync<T>(NpgsqlDataSource admin, string sql)
    {
        await using var command = admin.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    internal static async Task ExecuteAsync(NpgsqlDataSource admin, string sql)
    {
        await using var command = admin.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>postgres:// URLs as the store accepts them, for a plain Npgsql data source.</summary>
    private static string PostgresConnectionStringFor(string url) => PostgresConnectionString.Normalize(url);

    private static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
}
