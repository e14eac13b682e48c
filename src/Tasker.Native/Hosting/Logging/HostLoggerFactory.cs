using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tasker.Core;
using Tasker.Core.Events;

namespace Tasker.Native.Hosting.Logging;

/// <summary>
/// The loggers of one libtasker engine: records at or above the configured level go to stderr or, as
/// <c>log.*</c> events, to the engine's event bus (pulled by the host like any event). Nothing here formats a
/// record that is below the level.
/// </summary>
internal sealed class HostLoggerFactory(LogConfig config) : ILoggerFactory
{
    /// <summary>The engine's bus, set once the engine exists; records logged before that (opening the store) go nowhere.</summary>
    public EventBus? Bus { get; set; }

    public ILogger CreateLogger(string categoryName) => new HostLogger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) =>
        throw new NotSupportedException("libtasker's loggers are configured by the engine config's \"log\" object");

    public void Dispose()
    {
    }

    private bool IsEnabled(LogLevel level) => config.Sink != LogSink.None && level != LogLevel.None && level >= config.Level;

    private void Write<TState>(string category, LogLevel level, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (config.Sink == LogSink.Stderr)
        {
            // One write per line, so lines of concurrent records do not interleave.
            Console.Error.Write($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} tasker {Name(level)} {category}[{id.Id}]: {formatter(state, exception)}\n");
            return;
        }
        if (Bus is not { } bus || !bus.IsWanted("log." + Name(level))) return; // nobody pulls this level: build nothing
        var message = formatter(state, exception);
        var data = new Dictionary<string, JsonElement>
        {
            ["level"] = JsonLiterals.String(Name(level)),
            ["category"] = JsonLiterals.String(category),
            ["event_id"] = JsonLiterals.Number(id.Id),
            ["message"] = JsonLiterals.String(message),
        };
        Guid? taskUuid = null;
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            foreach (var (key, value) in values)
            {
                if (key == "{OriginalFormat}" || value is null) continue;
                if (value is Guid uuid && key == "TaskUuid") taskUuid = uuid;
                data[Snake(key)] = value switch
                {
                    int n => JsonLiterals.Number(n),
                    long n => JsonLiterals.Number(n),
                    double d when double.IsFinite(d) => JsonLiterals.Number(d),
                    bool b => b ? JsonLiterals.True : JsonLiterals.False,
                    IFormattable f => JsonLiterals.String(f.ToString(null, CultureInfo.InvariantCulture)),
                    _ => JsonLiterals.String(value.ToString() ?? ""),
                };
            }
        bus.Publish(new TaskerEvent { Name = "log." + Name(level), Timestamp = DateTimeOffset.UtcNow, TaskUuid = taskUuid, Data = data });
    }

    private static string Name(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "information",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        _ => "critical",
    };

    /// <summary>TaskUuid → task_uuid: the wire's naming for the record's named values.</summary>
    private static string Snake(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0) builder.Append('_');
                builder.Append(char.ToLowerInvariant(c));
            }
            else builder.Append(c);
        }
        return builder.ToString();
    }

    private sealed class HostLogger(HostLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => factory.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!factory.IsEnabled(logLevel)) return;
            try
            {
                factory.Write(category, logLevel, eventId, state, exception, formatter);
            }
            catch (Exception)
            {
                // A record that cannot be written (stderr closed, a value JSON cannot hold) is dropped: logging
                // must never fail the engine call that logged.
            }
        }
    }
}
