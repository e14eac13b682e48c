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
        var counts = cli.String("in-flight", "0,100,1000,5000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture));
        if (foreign > 0) Console.WriteLine($"{foreign:N0} tasks queued ahead for a handler the claims do not ask for");
        if (definitions > 1) Console.WriteLine($"the claimed work spread over {definitions} definitions of the 1-step template");
        Console.WriteLine("| tasks in flight | claims | steps asked a claim | claim ms, median | p90 | claims that got fewer |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var inFlight in counts)
        {
            // --queued 0: every claim finds nothing (a worker polling an empty queue while long steps run).
            var queue = queued == 0 ? 0 : Math.Max(queued, (WarmUpClaims + claims) * batch);
            var (median, p90, shortClaims) = await MeasureAsync(url, inFlight, queue, claims, batch, foreign, definitions);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {inFlight:N0} | {claims} | {batch} | {median:F2} | {p90:F2} | {shortClaims} |"));
        }
        return 0;
    }

    private static async Task<(double Median, double P90, int Short)> MeasureAsync(
        string url, int inFlight, int queued, int claims, int batch, int foreign, int definitions)
    {
        var schema = $"fscale_{Guid.NewGuid().ToString("N")[..8]}";
        var store = await PostgresStore.OpenAsync(new PostgresStoreOptions { ConnectionString = url, Schema = schema, ApplicationName = "tasker-bench-find" });
        try
        {
            await using var engine = new TaskerEngine(store); // disposes the store
            await engine.RegisterTemplateAsync(BenchTemplates.Single());
            await engine.RegisterTemplateAsync(BenchTemplates.Foreign());
            string[] mine = ["single", .. Enumerable.Range(1, definitions - 1).Select(v => $"single_{v}")];
            for (var v = 1; v < definitions; v++) await engine.RegisterTemplateAsync(BenchTemplates.SingleVariant(v));
            await CreateAsync(engine, foreign, ["foreign"]);
            // Oldest first in the order of work: the running tasks are the head of the queue the finds start at.
            await CreateAsync(engine, inFlight, mine);
            var longLease = new WorkClaimOptions(BenchTemplates.Handlers, 500, TimeSpan.FromHours(1), "holder", null, TimeSpan.Zero);
            for (var held = 0; held < inFlight;)
                held += (await engine.ClaimWorkAsync(longLease with { MaxSteps = Math.Min(500, inFlight - held) })).Count;
            await CreateAsync(engine, queued, mine);

            var options = new WorkClaimOptions(BenchTemplates.Handlers, batch, TimeSpan.FromMinutes(1), "measured", null, TimeSpan.Zero);
            for (var i = 0; i < WarmUpClaims; i++) await ClaimAndCompleteAsync(engine, options); // plans, pool, caches
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
            return (times[times.Count / 2], times[times.Count * 9 / 10], fewer);
        }
        finally
        {
            await using var admin = Npgsql.NpgsqlDataSource.Create(PostgresConnectionString.Normalize(url));
            await using var drop = admin.CreateCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE");
            await drop.ExecuteNonQueryAsync();
        }
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
