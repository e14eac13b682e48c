using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

public sealed class ErrorTests : PostgresTest
{
    private const string Secret = "hunter2-very-secret";

    private static PostgresStoreOptions Unreachable(int retries, int circuitThroughput = 100) => new()
    {
        // A closed port on loopback: connection refused at once.
        ConnectionString = $"postgres://tasker:{Secret}@127.0.0.1:1/nowhere",
        MaxRetries = retries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        CircuitMinimumThroughput = circuitThroughput,
        OperationTimeout = TimeSpan.FromSeconds(20),
    };

    [Fact]
    public async Task An_unreachable_database_is_a_database_error_that_never_shows_the_password()
    {
        await using var store = new PostgresStore(Unreachable(retries: 2));
        var e = await Assert.ThrowsAsync<TaskerException>(() => store.ListTasksAsync(new TaskQuery(), CancellationToken.None).AsTask());

        Assert.Equal(TaskerErrorCode.Database, e.Code);
        Assert.Equal("list_tasks", e.Details["operation"]);
        Assert.DoesNotContain(Secret, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, e.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, store.Statistics.Retries);
    }

    [Fact]
    public async Task The_circuit_opens_after_repeated_failures_and_then_fails_fast()
    {
        await using var store = new PostgresStore(Unreachable(retries: 0, circuitThroughput: 3));
        for (var i = 0; i < 3; i++)
            await Assert.ThrowsAsync<TaskerException>(() => store.ListTasksAsync(new TaskQuery(), CancellationToken.None).AsTask());

        var e = await Assert.ThrowsAsync<TaskerException>(() => store.ListTasksAsync(new TaskQuery(), CancellationToken.None).AsTask());
        Assert.Equal(TaskerErrorCode.Database, e.Code);
        Assert.Equal("circuit_open", e.Details["sqlstate"]);
    }

    [Fact]
    public void A_malformed_connection_string_is_an_invalid_argument_without_the_password()
    {
        var e = Assert.Throws<TaskerException>(() => new PostgresStore(new PostgresStoreOptions { ConnectionString = $"Host=h;Password={Secret};Bogus Key=1" }));
        Assert.Equal(TaskerErrorCode.InvalidArgument, e.Code);
        Assert.DoesNotContain(Secret, e.Message, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task A_change_blocked_past_the_operation_timeout_is_a_timeout_error()
    {
        var (engine, _) = await EngineAsync(configure: o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString, Schema = o.Schema, OperationTimeout = TimeSpan.FromSeconds(1),
        });
        await engine.RegisterTemplateAsync(PgWorkflows.Mixed);
        var task = await CreateAsync(engine, PgWorkflows.Mixed);

        // Another session holds the task's row lock (an operator's open transaction, say).
        await using var blocker = await TestSql.OpenAsync(Schema);
        await using var tx = await blocker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM tasker_tasks WHERE task_uuid = $1 FOR UPDATE", blocker, tx))
        {
            lockRow.Parameters.Add(new NpgsqlParameter { Value = task });
            await lockRow.ExecuteNonQueryAsync();
        }

        var e = await Assert.ThrowsAsync<TaskerException>(() => engine.ClaimStepsAsync(task).AsTask());
        Assert.Equal(TaskerErrorCode.Timeout, e.Code);
        await tx.RollbackAsync();
        Assert.Single((await engine.ClaimStepsAsync(task)).Claims); // nothing was half-written
    }
}
