using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Processes;

/// <summary>Separate OS processes (the bench's worker) on one database, as separate machines would be.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MultiProcessTests : IAsyncLifetime
{
    private readonly string _schema = TestSchemas.Next();
    private readonly string _dir = Directory.CreateTempSubdirectory("tasker-mp-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [PostgresFact]
    public async Task Four_processes_run_200_tasks_each_step_once_per_attempt_and_each_task_finalized_once()
    {
        const int tasks = 200, failEvery = 5;
        await using (var seed = await WorkerProcess.StartAsync("seed", "--schema", _schema, "--tasks", $"{tasks}", "--fail-every", $"{failEvery}"))
            await seed.ExitAsync(TimeSpan.FromSeconds(120));

        var workers = new List<WorkerProcess>();
        try
        {
            for (var w = 0; w < 4; w++)
                workers.Add(await WorkerProcess.StartAsync("worker", "--schema", _schema, "--worker-id", $"p{w}", "--lanes", "2",
                    "--claim-batch", "4", "--offset", $"{w * tasks / 4}", "--log", Path.Combine(_dir, $"p{w}.log")));
            foreach (var worker in workers)
                await worker.ExitAsync(TimeSpan.FromSeconds(180));
        }
        finally
        {
            foreach (var worker in workers) await worker.DisposeAsync();
        }

        await AuditTrail.AssertConsistentAsync(_schema, tasks);

        // Every handler execution, as the processes logged them: no (task, step, attempt) ran twice anywhere,
        // and every attempt the database counted was executed by exactly one process.
        var executions = Enumerable.Range(0, 4)
            .SelectMany(w => File.ReadAllLines(Path.Combine(_dir, $"p{w}.log")).Select(l => (Worker: w, Line: l.Split(' '))))
            .Where(e => e.Line[0] == "EXEC")
            .Select(e => (e.Worker, Task: e.Line[1], Step: e.Line[2], Attempt: e.Line[3]))
            .ToList();
        Assert.Equal(executions.Count, executions.Select(e => (e.Task, e.Step, e.Attempt)).Distinct().Count());
        Assert.Equal(await TestSql.ScalarAsync<int>(_schema, "SELECT sum(attempts)::int FROM tasker_workflow_steps"), executions.Count);
        Assert.All(Enumerable.Range(0, 4), w => Assert.Contains(executions, e => e.Worker == w)); // all four really worked

        // The injected first-attempt failures were retried: 2 steps x every 5th task ran twice.
        var retried = await TestSql.ScalarAsync<int>(_schema, "SELECT count(*)::int FROM tasker_workflow_steps WHERE attempts = 2");
        Assert.Equal(tasks / failEvery * 2, retried);
        Assert.Equal(tasks * 7 + retried, executions.Count);
    }
}
