using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tasker.Postgres.Diagnostics;

/// <summary>
/// What the PostgreSQL store logs (category <c>Tasker.Postgres</c>). Errors are described by kind and SQLSTATE
/// only: a driver message could quote a host name or a statement's values.
/// </summary>
internal static partial class StoreLog
{
    public const string Category = "Tasker.Postgres";

    [LoggerMessage(2001, LogLevel.Warning, "Database call failed ({ErrorKind}); retry {Attempt} of {MaxRetries} in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string errorKind, int attempt, int maxRetries, long delayMs);

    [LoggerMessage(2002, LogLevel.Error, "Database unavailable ({ErrorKind}): failing fast for {BreakSeconds} s (circuit open)")]
    public static partial void CircuitOpened(ILogger logger, string errorKind, double breakSeconds);

    [LoggerMessage(2003, LogLevel.Information, "Database reachable again (circuit closed)")]
    public static partial void CircuitClosed(ILogger logger);

    [LoggerMessage(2004, LogLevel.Information, "Applied migration {Version} to schema {Schema}")]
    public static partial void MigrationApplied(ILogger logger, int version, string schema);

    [LoggerMessage(2005, LogLevel.Information, "Retention: deleted {Count} tasks finished before {Before}")]
    public static partial void Pruned(ILogger logger, long count, DateTimeOffset before);

    [LoggerMessage(2006, LogLevel.Warning, "Retention sweep failed ({ErrorKind}); next try in {IntervalSeconds} s")]
    public static partial void PruneFailed(ILogger logger, string errorKind, double intervalSeconds);

    [LoggerMessage(2007, LogLevel.Warning, "The work listener lost its connection ({ErrorKind}); workers poll until it is back")]
    public static partial void ListenerLost(ILogger logger, string errorKind);

    [LoggerMessage(2008, LogLevel.Warning, "Announcing new work failed ({ErrorKind}); workers find it at their next poll")]
    public static partial void AnnounceFailed(ILogger logger, string errorKind);

    [LoggerMessage(2009, LogLevel.Warning, "A claim from announced tasks failed ({ErrorKind}); the worker finds work instead")]
    public static partial void AnnouncedClaimFailed(ILogger logger, string errorKind);

    /// <summary>The kind of a failure, safe to log: the exception type and, for a server error, its SQLSTATE.</summary>
    public static string Kind(Exception? exception) => exception switch
    {
        null => "unknown",
        PostgresException pg => $"{nameof(PostgresException)} {pg.SqlState}",
        _ => exception.GetType().Name,
    };
}
