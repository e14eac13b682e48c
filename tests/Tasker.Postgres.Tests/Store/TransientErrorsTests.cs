using Npgsql;
using Tasker.Postgres.Resilience;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// Which failures leave a sent commit's outcome unknown, so that the retry looks for the write before running it
/// again (<see cref="Tasks.TaskUpdater"/>, <see cref="Work.ClaimInDoubt"/>).
/// </summary>
public sealed class TransientErrorsTests
{
    [Fact]
    public void A_connection_that_broke_leaves_the_outcome_unknown() =>
        Assert.True(TransientErrors.OutcomeUnknown(new NpgsqlException("Exception while reading from stream", new IOException("reset"))));

    [Theory]
    [InlineData("57P01")] // admin_shutdown: pg_terminate_backend, a fast shutdown
    [InlineData("57P02")] // crash_shutdown
    public void A_backend_told_to_go_may_have_committed_already(string state) =>
        // Waiting for a synchronous standby, a backend has committed locally when it is terminated.
        Assert.True(TransientErrors.OutcomeUnknown(new PostgresException("terminating connection", "FATAL", "FATAL", state)));

    [Theory]
    [InlineData("40001")] // serialization_failure
    [InlineData("23505")] // unique_violation
    [InlineData("53300")] // too_many_connections
    public void Any_other_error_the_server_reports_means_the_transaction_rolled_back(string state) =>
        Assert.False(TransientErrors.OutcomeUnknown(new PostgresException("error", "ERROR", "ERROR", state)));
}
