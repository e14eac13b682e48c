using Microsoft.Extensions.Logging;
using Tasker.Core;

namespace Tasker.Native.Hosting.Logging;

/// <summary>Where an engine's log records go: the <c>"log"</c> object of the engine config.</summary>
internal enum LogSink
{
    /// <summary>One line per record on the process's stderr.</summary>
    Stderr,
    /// <summary>Published as <c>log.&lt;level&gt;</c> events: the host pulls them with a subscription.</summary>
    Events,
    /// <summary>Nowhere (the default: the library writes nothing unless asked to).</summary>
    None,
}

/// <summary><c>"log": {"level": "warning", "sink": "stderr" | "events" | "none"}</c>.</summary>
internal sealed record LogConfig(LogLevel Level, LogSink Sink)
{
    public static readonly LogConfig Default = new(LogLevel.Warning, LogSink.None);

    public static LogConfig Parse(string? level, string? sink) => new(
        level switch
        {
            null => Default.Level,
            "trace" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "information" or "info" => LogLevel.Information,
            "warning" or "warn" => LogLevel.Warning,
            "error" => LogLevel.Error,
            "critical" => LogLevel.Critical,
            "none" => LogLevel.None,
            _ => throw TaskerException.InvalidArgument(
                $"log.level must be trace, debug, information, warning, error, critical or none, not \"{level}\"", "log.level"),
        },
        sink switch
        {
            null or "none" => LogSink.None,
            "stderr" => LogSink.Stderr,
            "events" => LogSink.Events,
            _ => throw TaskerException.InvalidArgument($"log.sink must be stderr, events or none, not \"{sink}\"", "log.sink"),
        });
}
