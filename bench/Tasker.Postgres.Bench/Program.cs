using System.Globalization;
using Tasker.Core;
using Tasker.Postgres;
using Tasker.Postgres.Bench;

// The PostgreSQL store's bench driver and multi-process worker: `Tasker.Postgres.Bench --help` prints the commands.
const string Usage = """
    usage: Tasker.Postgres.Bench COMMAND [--options]

      migrate    --database-url URL [--schema S]
      seed       --database-url URL --schema S --tasks N [--fail-every K]
      worker     --database-url URL --schema S --worker-id W [--lanes 4] [--claim-batch 16] [--lease-seconds 30]
                 [--hold-ms 0] [--offset 0] [--log FILE] [--results FILE] [--announce-claims] [--timeout-seconds 600]
                 [--namespace bench] [--partition k/n] [--warmup-namespace NS] [--wait-for-go]
      run        --database-url URL [--workers 1,2,4] [--tasks 1000] [--lanes 4] [--claim-batch 16] [--shared] [--repeat 1]
                                                                                                    (throughput)
      readiness  --database-url URL [--steps 1000] [--iterations 200]                                (C# vs SQL)
      side-by-side --database-url URL [--rounds 3] [--tasker-processes 2] [--tasker-concurrency 8] [--tasker-prefetch N] [--single-tasks 10000]
                 [--dag-tasks 2000] [--graphile-jobs 20000] [--perf-jobs 40000] [--latency-samples 200] [--only kinds]
                 [--graphile-dir bench/graphile] [--node node]      (worker mode against graphile-worker; bench/worker/run.sh)
                 [--python-processes 2] [--python-concurrency 8] [--python-prefetch N] [--python python3] [--python-worker bench/python/work_worker.py]
                 [--ruby-processes 2] [--ruby-concurrency 8] [--ruby-prefetch N] [--ruby ruby] [--ruby-worker bench/ruby/work_worker.rb]
                 [--node-processes 2] [--node-concurrency 8] [--node-prefetch N] [--node-worker bench/node/work_worker.js] (with --node)
                 [--latency-concurrency 10] [--latency-pauses 30,5 (ms from a start to the next enqueue)] [--warmup-tasks 300]
                 [--warmup-jobs 2000]
                 --only: comma-separated parts of TaskerSingle, TaskerDag, GraphileDefault, GraphilePerf, PythonSingle,
                 PythonDag, RubySingle, RubyDag, NodeSingle, NodeDag (e.g. Single,Dag; a Python, Ruby or Node kind only
                 when the part names the language: PythonSingle, rubydag, Node)
      work-worker --database-url URL --schema S --worker-id W [--concurrency 8] [--prefetch 8] [--warmup-namespace NS]
                 [--namespace bench] [--latency]                        (one worker-mode process, driven by side-by-side)
      find-scale --database-url URL [--in-flight 0,100,1000,5000] [--queued 2000 (0: empty claims)] [--claims 200] [--batch 8]
                                                      [--foreign 0 (tasks queued ahead for a handler not asked for)]
                                                      [--definitions 1 (definitions of the 1-step template the work is spread over)]
                                                      [--done 0 (tasks run to completion first, not vacuumed, e.g. 0,20000; timed again after VACUUM)]
                                                      (a work claim's time with that many steps in flight)

    The database URL may also come from TASKER_DATABASE_URL or TASKER_TEST_DATABASE_URL.
    """;

if (args.Length == 0 || args.Any(a => a is "--help" or "-h"))
{
    (args.Length == 0 ? Console.Error : Console.Out).WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

var cli = new Cli(args[1..]);
try
{
    switch (args[0])
    {
        case "migrate":
        {
            await using var store = new PostgresStore(Options(cli, cli.Optional("schema")));
            await store.MigrateAsync(CancellationToken.None);
            Console.WriteLine("migrated");
            return 0;
        }
        case "seed":
        {
            await using var engine = await EngineAsync(cli, cli.Required("schema"), TimeSpan.FromSeconds(30));
            var tasks = await Seeder.SeedAsync(engine, cli.Int("tasks", 200), cli.Int("fail-every", 0));
            Console.WriteLine($"seeded {tasks.Count}");
            return 0;
        }
        case "worker":
            return await RunWorkerAsync(cli);
        case "run":
            return await ThroughputBench.RunAsync(cli);
        case "readiness":
            return await ReadinessBench.RunAsync(cli);
        case "work-worker":
            return await Tasker.Postgres.Bench.WorkMode.WorkModeWorker.RunAsync(cli);
        case "side-by-side":
            return await Tasker.Postgres.Bench.WorkMode.SideBySide.RunAsync(cli);
        case "find-scale":
            return await Tasker.Postgres.Bench.WorkMode.FindScale.RunAsync(cli);
        default:
            Console.Error.WriteLine($"unknown command '{args[0]}'");
            return 2;
    }
}
catch (TaskerException e)
{
    Console.Error.WriteLine($"error {e.Code}: {e.Message}");
    return 1;
}

static PostgresStoreOptions Options(Cli cli, string? schema) => new()
{
    ConnectionString = cli.DatabaseUrl(),
    Schema = schema,
    ApplicationName = "tasker-bench",
    MaxPoolSize = Math.Max(cli.Int("lanes", 4) * 2, 4),
};

static async Task<TaskerEngine> EngineAsync(Cli cli, string schema, TimeSpan lease)
{
    var store = await PostgresStore.OpenAsync(Options(cli, schema));
    return new TaskerEngine(store, new TaskerOptions { LeaseDuration = lease });
}

static async Task<List<Guid>> TasksAsync(TaskerEngine engine, string ns)
{
    var listed = await engine.ListTasksAsync(new TaskQuery(Namespace: ns, Limit: 10_000));
    return listed.Select(t => t.TaskUuid).Reverse().ToList(); // creation order
}

static async Task<int> RunWorkerAsync(Cli cli)
{
    var settings = new WorkerSettings(
        cli.Required("worker-id"),
        cli.Int("lanes", 4),
        cli.Int("claim-batch", 16),
        TimeSpan.FromSeconds(cli.Double("lease-seconds", 30)),
        TimeSpan.FromMilliseconds(cli.Int("hold-ms", 0)),
        cli.Int("offset", 0),
        cli.Optional("log"),
        cli.Flag("announce-claims"));
    var store = await PostgresStore.OpenAsync(Options(cli, cli.Required("schema")));
    await using var engine = new TaskerEngine(store, new TaskerOptions { LeaseDuration = settings.Lease });
    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(cli.Int("timeout-seconds", 600)));
    if (cli.Optional("warmup-namespace") is { } warmup)
    {
        // Not measured: JIT, tiering, connection pool and caches settle here.
        await new Worker(engine, settings with { LogPath = null, AnnounceClaims = false, Offset = 0 })
            .RunAsync(await TasksAsync(engine, warmup), store, timeout.Token);
    }
    var tasks = await TasksAsync(engine, cli.String("namespace", BenchTemplates.Namespace));
    if (cli.Optional("partition") is { } partition)
    {
        // "k/n": this process owns every n-th task, as a job queue would hand each task's job to one worker.
        var parts = partition.Split('/');
        var (k, n) = (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
        tasks = tasks.Where((_, i) => i % n == k).ToList();
    }
    if (cli.Flag("wait-for-go"))
    {
        Console.Out.WriteLine("READY");
        Console.Out.Flush();
        if (Console.In.ReadLine() != "GO") return 3;
    }
    var report = await new Worker(engine, settings).RunAsync(tasks, store, timeout.Token);
    if (cli.Optional("results") is { } path)
        report.Write(path);
    Console.Out.WriteLine($"DONE {settings.WorkerId} steps={report.StepsExecuted} claims={report.Claims} stale={report.StaleClaims} db_errors={report.DatabaseErrors}");
    return 0;
}
