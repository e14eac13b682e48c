using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Processes;

/// <summary>A worker process dies (SIGKILL) holding claims; another process finishes its work after the lease.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CrashTests : IAsyncLifetime
{
    private readonly string _schema = TestSchemas.Next();
    private readonly string _dir = Directory.CreateTempSubdirectory("tasker-crash-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [PostgresFact]
    public async Task Steps_held_by_a_killed_worker_are_rerun_by_another_process_after_the_lease_expires()
    {
        const int tasks = 20;
        await using (var seed = await WorkerProcess.StartAsync("seed", "--schema", _schema, "--tasks", $"{tasks}"))
            await seed.ExitAsync(TimeSpan.FromSeconds(120));

        // The doomed worker claims steps and then "works" on them forever, with a 3 s lease.
        List<(string Task, string Step)> held;
        await using (var doomed = await WorkerProcess.StartAsync("worker", "--schema", _schema, "--worker-id", "doomed", "--lanes", "3",
                         "--claim-batch", "2", "--lease-seconds", "3", "--hold-ms", "600000", "--announce-claims"))
        {
            await doomed.WaitForLinesAsync(l => l.StartsWith("CLAIMED", StringComparison.Ordinal), 3, TimeSpan.FromSeconds(60));
            await doomed.KillAsync();
            held = doomed.Lines.Where(l => l.StartsWith("CLAIMED", StringComparison.Ordinal))
                .Select(l => l.Split(' ')).Select(p => (p[1], p[2])).ToList();
        }
        Assert.Equal(held.Count, await TestSql.ScalarAsync<int>(_schema, "SELECT count(*)::int FROM tasker_workflow_steps WHERE state = 'in_progress'"));

        var log = Path.Combine(_dir, "rescuer.log");
        await using (var rescuer = await WorkerProcess.StartAsync("worker", "--schema", _schema, "--worker-id", "rescuer", "--lanes", "2", "--log", log))
            await rescuer.ExitAsync(TimeSpan.FromSeconds(120));

        await AuditTrail.AssertConsistentAsync(_schema, tasks);
        var rescued = File.ReadAllLines(log).Select(l => l.Split(' ')).Where(p => p[0] == "EXEC" && p[3] == "2").Select(p => (p[1], p[2])).ToHashSet();
        Assert.All(held, h => Assert.Contains(h, rescued)); // each abandoned step ran again, as its 2nd attempt
        Assert.Equal(held.Count, await TestSql.ScalarAsync<int>(_schema,
            "SELECT count(*)::int FROM tasker_workflow_step_transitions WHERE reason = 'lease expired' AND from_state = 'in_progress'"));
    }
}
