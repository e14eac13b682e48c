using Npgsql;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Tasker.Core;

namespace Tasker.Postgres.Resilience;

/// <summary>
/// Turns driver and resilience exceptions into the engine's one error type: <c>DATABASE</c> or <c>TIMEOUT</c>, with
/// the SQLSTATE in the details and never a connection string, password or row value in the message.
/// </summary>
internal static class DatabaseErrors
{
    /// <summary>Maps database and resilience failures; anything else (engine errors, bugs) is left to propagate as is.</summary>
    public static TaskerException? Map(Exception exception, string operation, string? password)
    {
        switch (exception)
        {
            case TimeoutRejectedException:
                return new TaskerException(TaskerErrorCode.Timeout, $"database operation '{operation}' timed out",
                    Details(operation, null), exception);
            case BrokenCircuitException:
                return new TaskerException(TaskerErrorCode.Database,
                    $"database operation '{operation}' refused: too many recent failures, the circuit is open (retry shortly)",
                    Details(operation, "circuit_open"), exception);
            case PostgresException pg when pg.SqlState is "57014":
                return new TaskerException(TaskerErrorCode.Timeout, $"database operation '{operation}' was cancelled by the command timeout",
                    Details(operation, pg.SqlState), exception);
            case PostgresException pg:
                // MessageText is the server's primary message; Detail (which may quote row values) is left out.
                return new TaskerException(TaskerErrorCode.Database,
                    PostgresConnectionString.Scrub($"database error {pg.SqlState} in '{operation}': {pg.MessageText}", password),
                    Details(operation, pg.SqlState), exception);
            case NpgsqlException { InnerException: TimeoutException }:
                return new TaskerException(TaskerErrorCode.Timeout, $"database operation '{operation}' timed out",
                    Details(operation, null), exception);
            case NpgsqlException or IOException or System.Net.Sockets.SocketException:
                return new TaskerException(TaskerErrorCode.Database,
                    PostgresConnectionString.Scrub($"database unavailable in '{operation}': {exception.Message}", password),
                    Details(operation, (exception as NpgsqlException)?.SqlState), exception);
            default:
                return null;
        }
    }

    private static Dictionary<string, string> Details(string operation, string? sqlState)
    {
        var details = new Dictionary<string, string> { ["operation"] = operation };
        if (sqlState is not null)
            details["sqlstate"] = sqlState;
        return details;
    }
}
