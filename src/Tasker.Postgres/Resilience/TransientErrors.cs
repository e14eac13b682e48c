using System.Net.Sockets;
using Npgsql;

namespace Tasker.Postgres.Resilience;

/// <summary>
/// Which database failures are worth retrying: the ones where the same operation, run again on a fresh connection
/// and a fresh transaction, can succeed. Constraint violations, syntax errors and the like are not.
/// </summary>
internal static class TransientErrors
{
    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException pg => IsTransientState(pg.SqlState) || pg.IsTransient,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or SocketException or TimeoutException,
        IOException or SocketException => true,
        _ => false,
    };

    /// <summary>
    /// True when the failure may have hit after the server received a commit: the connection broke, so whether the
    /// write happened is unknown. An error the server reports means it was rolled back, except a shutdown's or a
    /// terminated backend's (57P01, 57P02): a backend waiting for a synchronous standby's confirmation has committed
    /// locally when it is told to go.
    /// </summary>
    public static bool OutcomeUnknown(Exception exception) => exception is PostgresException pg
        ? pg.SqlState is "57P01" or "57P02"
        : exception is NpgsqlException or IOException or SocketException;

    private static bool IsTransientState(string state) => state switch
    {
        "40001" => true, // serialization_failure
        "40P01" => true, // deadlock_detected
        "55P03" => true, // lock_not_available
        "57P01" => true, // admin_shutdown (pg_terminate_backend, fast shutdown, failover)
        "57P02" => true, // crash_shutdown
        "57P03" => true, // cannot_connect_now (starting up, recovery)
        "53300" => true, // too_many_connections
        "08000" or "08003" or "08006" or "08001" or "08004" => true, // connection exceptions
        "25006" => true, // read_only_sql_transaction: connected to a standby right after failover
        _ => false,
    };
}
