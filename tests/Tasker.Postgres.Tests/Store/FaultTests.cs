using System.Collections.Concurrent;
using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>The database kills our connections mid-run (pg_terminate_backend, as a failover or an operator would).</summary>
public sealed class FaultTests : PostgresTest
{
    [PostgresFact]
    public async Task A_run_whose_connections_are_terminated_recovers_with_a_consistent_audit_trail()
    {
        var (a, storeA) = await EngineAsync(applicationName: "tasker-fault");
        var (b, storeB) = await EngineAsync(applicationName: "tasker-fault");
        await a.RegisterTemplateAsync(PgWorkflows.Mixed);
        var tasks = new List<Guid>();
        for (var i = 0; i < 40; i++) tasks.Add(await CreateAsync(a, PgWorkflows.Mixed));

        using var stop = new CancellationTokenSource();
        var killed = 0;
        var killer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                killed += await TestSql.ScalarAsync<int>(null, """
                    SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
                    WHERE application_name = 'tasker-fault' AND datname = current_database() AND pid <> pg_backend_pid()
                    """);
                await Task.Delay(25);
            }
        });

        var queue = new ConcurrentQueue<Guid>(tasks);
        var databaseErrors = 0;
        await Task.WhenAll(Enumerable.Range(0, 6).Select(n => Task.Run(async () =>
        {
            var engine = n % 2 == 0 ? a : b;
            while (queue.TryDequeue(out var task))
            {
                try
                {
                    if (!await DriveAsync(engine, task)) queue.Enqueue(task);
                }
                catch (TaskerException e) when (e.Code is TaskerErrorCode.Database or TaskerErrorCode.Timeout)
                {
                    Interlocked.Increment(ref databaseErrors); // retries exhausted: a host re-enqueues the job
                    queue.Enqueue(task);
                }
            }
        })));
        stop.Cancel();
        await killer;

        Assert.True(killed > 0, "no connection was terminated: the test did not test anything");
        Assert.True(storeA.Statistics.Retries + storeB.Statistics.Retries > 0);
        await AuditTrail.AssertConsistentAsync(Schema, tasks.Count);
    }

    /// <summary>Claims and completes until the task is finished (true) or has nothing ready for us (false).</summary>
    private static async Task<bool> DriveAsync(TaskerEngine engine, Guid task)
    {
        while (true)
        {
            var claim = await engine.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 4));
            if (claim.Claims.Count == 0)
                return claim.Outcome.Action is RecommendedAction.Complete or RecommendedAction.Error;
            foreach (var c in claim.Claims)
            {
                try
                {
                    await engine.CompleteStepAsync(task, c.StepUuid, c.ClaimToken, JsonValues.EmptyObject);
                }
                catch (TaskerException e) when (e.Code is TaskerErrorCode.Database or TaskerErrorCode.Timeout)
                {
                    // Outcome unknown to us; the step stays claimed until its lease expires, or it was recorded.
                    // Leases are long here, so keep trying the same completion: it is safe to repeat.
                    await CompleteUntilSettledAsync(engine, task, c);
                }
            }
        }
    }

    private static async Task CompleteUntilSettledAsync(TaskerEngine engine, Guid task, StepClaim c)
    {
        while (true)
        {
            try
            {
                await engine.CompleteStepAsync(task, c.StepUuid, c.ClaimToken, JsonValues.EmptyObject);
                return;
            }
            catch (TaskerException e) when (e.Code == TaskerErrorCode.StaleClaim)
            {
                return; // an earlier try was recorded after all
            }
            catch (TaskerException e) when (e.Code is TaskerErrorCode.Database or TaskerErrorCode.Timeout)
            {
                await Task.Delay(20);
            }
        }
    }
}
