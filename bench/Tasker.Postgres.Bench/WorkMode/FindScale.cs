using System.Diagnostics;
using System.Globalization;
using Tasker.Core;

namespace Tasker.Postgres.Bench.WorkMode;

/// <summary>
/// <c>find-scale</c>: what a work claim costs with many steps in flight (issue 13). Per count K of <c>--in-flight</c>:
/// a fresh schema, K tasks of the 1-step template claimed with a long lease and left running (as long handlers
/// would be), <c>--queued</c> more waiting; then <c>--claims</c> work claims of <c>--batch</c> steps each, each
/// claim's steps completed before the next claim (so K stays the same), one process. Prints the median and p90 of a
/// claim's wall time, in ms, per K: a claim whose find walked every unfinished task grew with K. With
/// <c>--queued 0</c> every claim comes back empty, which is what a worker polling an idle queue pays. With
/// <c>--foreign N</c>, N more tasks wait ahead of all of them for a handler the claims do not ask for (a DAG whose
/// other steps run in another language's workers): a claim whose find walked past them grew with N. With
/// <c>--definitions D</c>, the running and queued tasks are spread over D definitions of the 1-step template (the same
/// handler, as after re-registering a template D - 1 times with changes): the find merges D stretches of its walk.
/// With <c>--done N</c> (a list), N tasks created before all of them have run to completion first, with autovacuum off
/// for the tasks and steps tables: each left entries for row versions that are gone in the walk's index, at the head of
/// its stretch (a claim moves a task's entry; finishing drops it), as a busy queue has between two autovacuum runs. Both
/// tables are analyzed before the claims are timed, and vacuumed before they are timed again.
/// </summary>
internal static class FindScale
{
    private const int WarmUpClaims = 20;

    public static async Task<int> RunAsync(Cli cli)
    {
        var url = cli.DatabaseUrl();
        var queued = cli.Int("queued", 2_000);
        var claims = cli.Int("claims", 200);
        var batch = cli.Int("batch", 8);
        var foreign = cli.Int("foreign", 0);
        var definitions = cli.Int("definitions", 1);
        var counts = Counts(cli.String("in-flight", "0,100,1000,5000"));
        var doneCounts = Counts(cli.String("done", "0"));
        if (foreign > 0) Console.WriteLine($"{foreign:N0} tasks queued ahead for a handler the claims do not ask for");
        if (definitions > 1) Console.WriteLine($"the claimed work spread over {definitions} definitions of the 1-step template");
        var churn = doneCounts.Any(d => d > 0);
        Console.WriteLine(churn
            ? "| tasks in flight | tasks done before, not vacuumed | claims | steps asked a claim | claim ms, median | p90 | claims that got fewer | after VACUUM: median | p90 |"
            : "| tasks in flight | claims | steps asked a claim | claim ms, median | p90 | claims that got fewer |");
        Console.WriteLine(churn ? "|---:|---:|---:|---:|---:|---:|---:|---:|---:|" : "|---:|---:|---:|---:|---:|---:|");
        foreach (var inFlight in counts)
        foreach (var done in doneCounts)
        {
            // --queued 0: every claim finds nothing (a worker polling an empty queue while long steps run).
            var queue = queued == 0 ? 0 : Math.Max(queued, (WarmUpClaims + (done > 0 ? 2 : 1) * claims) * batch);
            var (before, after) = await MeasureAsync(url, inFlight, done, queue, claims, batch, foreign, definitions);
            Console.WriteLine(churn
                ? string.Create(CultureInfo.InvariantCulture,
                    $"| {inFlight:N0} | {done:N0} | {claims} | {batch} | {before.Median:F2} | {before.P90:F2} | {before.Short} | {after?.Median:F2} | {after?.P90:F2} |")
                : string.Create(CultureInfo.InvariantCulture,
                    $"| {inFlight:N0} | {claims} | {batch} | {before.Median:F2} | {before.P90:F2} | {before.Short} |"));
        }
        return 0;
    }

    private static int[] Counts(string list) => list.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

    private readonly record struct Timing(double Median, double P90, int Short);

    /// <summary>The claims' timing; with <paramref name="done"/> tasks run before, again after a VACUUM.</summary>
    private static async Task<(Timing Before, Timing? After)> MeasureAsync(
        string url, int inFlight, int done, int queued, int claims, int batch, int foreign, int definitions)
    {
        var schema = $"fscale_{Guid.NewGuid().ToString("N")[..8]}";
        var store = await PostgresStore.OpenAsync(new PostgresStoreOptions { ConnectionString = url, Schema = schema, ApplicationName = "tasker-bench-find" });
        await using var admin = Npgsql.NpgsqlDataSource.Create(PostgresConnectionString.Normalize(url));
        try
        {
            await using var engine = new TaskerEngine(store); // disposes the store
            await engine.RegisterTemplateAsync(BenchTemplates.Single());
            await engine.RegisterTemplateAsync(BenchTemplates.Foreign());
            string[] mine = ["single", .. Enumerable.Range(1, definitions - 1).Select(v => $"single_{v}")];
            for (var v = 1; v < definitions; v++) await engine.RegisterTemplateAsync(BenchTemplates.SingleVariant(v));
            if (done > 0)
            {
                // The entries they leave stay until a VACUUM, as between two autovacuum runs of a busy queue.
                await ExecuteAsync(admin, $"ALTER TABLE {schema}.tasker_tasks SET (autovacuum_enabled = off)");
                await ExecuteAsync(admin, $"ALTER TABLE {schema}.tasker_workflow_steps SET (autovacuum_enabled = off)");
                await CreateAsync(engine, done, mine);
                await RunToCompletionAsync(engine, done);
            }
            await CreateAsync(engine, foreign, ["foreign"]);
            // Oldest first in the order of work: the running tasks are the head of the queue the finds start at.
            await CreateAsync(engine, inFlight, mine);
            var longLease = new WorkClaimOptions(BenchTemplates.Handlers, 500, TimeSpan.FromHours(1), "holder", null, TimeSpan.Zero);
            for (var held = 0; held < inFlight;)
                held += (await engine.ClaimWorkAsync(longLease with { MaxSteps = Math.Min(500, inFlight - held) })).Count;
            await CreateAsync(engine, queued, mine);

            var options = new WorkClaimOptions(BenchTemplates.Handlers, batch, TimeSpan.FromMinutes(1), "measured", null, TimeSpan.Zero);
            // Without autovacuum nothing analyzes them: statistics as fresh as after the VACUUM below, so that only the
            // removed entries differ between the two timings.
            if (done > 0) await ExecuteAsync(admin, $"ANALYZE {schema}.tasker_tasks, {schema}.tasker_workflow_steps");
            for (var i = 0; i < WarmUpClaims; i++) await ClaimAndCompleteAsync(engine, options); // plans, pool, caches
            var before = await TimeClaimsAsync(engine, options, claims, batch);
            if (done == 0) return (before, null);
            await ExecuteAsync(admin, $"VACUUM {schema}.tasker_tasks, {schema}.tasker_workflow_steps");
            return (before, await TimeClaimsAsync(engine, options, claims, batch));
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    private static async Task<Timing> TimeClaimsAsync(TaskerEngine engine, WorkClaimOptions options, int claims, int batch)
    {
        var times = new List<double>(claims);
        var fewer = 0;
        for (var i = 0; i < claims; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var claimed = await engine.ClaimWorkAsync(options);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (claimed.Count < batch) fewer++;
            await CompleteAsync(engine, claimed);
        }
        times.Sort();
        return new Timing(times[times.Count / 2], times[times.Count * 9 / 10], fewer);
    }

    /// <summary>Claims and completes <paramref name="count"/> tasks' steps, 500 a claim, the completions 8 at a time.</summary>
    private static async Task RunToCompletionAsync(TaskerEngine engine, int count)
    {
        var options = new WorkClaimOptions(BenchTemplates.Handlers, 500, TimeSpan.FromMinutes(10), "churn", null, TimeSpan.Zero);
        for (var ran = 0; ran < count;)
        {
            var claimed = await engine.ClaimWorkAsync(options with { MaxSteps = Math.Min(500, count - ran) });
            if (claimed.Count == 0) throw new InvalidOperationException($"only {ran} of {count} tasks could be claimed");
            ran += claimed.Count;
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < claimed.Count)
                    await engine.CompleteStepAsync(claimed[i].TaskUuid, claimed[i].StepUuid, claimed[i].ClaimToken, JsonValues.EmptyObject);
            }));
        }
    }

    private static async Task ExecuteAsync(Npgsql.NpgsqlDataSource admin, string sql)
    {
        await using var command = admin.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task ClaimAndCompleteAsync(TaskerEngine engine, WorkClaimOptions options) =>
        await CompleteAsync(engine, await engine.ClaimWorkAsync(options));

    private static async Task CompleteAsync(TaskerEngine engine, IReadOnlyList<StepClaim> claimed)
    {
        foreach (var c in claimed)
            await engine.CompleteStepAsync(c.TaskUuid, c.StepUuid, c.ClaimToken, JsonValues.EmptyObject);
    }

    /// <summary>Creates <paramref name="count"/> tasks, of the templates in turn.</summary>
    private static async Task CreateAsync(TaskerEngine engine, int count, string[] templates)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
                await engine.CreateTaskAsync(new TaskRequest { Namespace = BenchTemplates.Namespace, Name = templates[i % templates.Length], Initiator = "bench" });
        }));
    }
}
