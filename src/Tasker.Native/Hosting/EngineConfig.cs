using System.Text.Json;
using Tasker.Core;
using Tasker.Core.Storage;
using Tasker.Core.Storage.Memory;
using Tasker.Postgres;

namespace Tasker.Native.Hosting;

/// <summary>
/// The JSON engine configuration of <c>tasker_engine_open</c> (all fields optional; <c>{}</c> is the memory store):
/// <c>database_url, schema, pool_size, migrate, max_attempts, backoff{base_seconds,max_seconds,jitter},
/// lease_seconds, retention{max_finished_tasks}, event_buffer, clock ("system"|"manual"), random_seed, environment,
/// telemetry{exporter}, log{level, sink}</c>.
/// </summary>
internal sealed class EngineConfig
{
    public string? DatabaseUrl { get; private init; }
    public string? Schema { get; private init; }
    public int PoolSize { get; private init; } = 20;
    public bool Migrate { get; private init; } = true;
    public bool ManualClock { get; private init; }
    /// <summary><c>telemetry.exporter</c>: "otlp" or "console"; null defers to the OTEL_* environment.</summary>
    public string? TelemetryExporter { get; private init; }
    /// <summary><c>log.level</c> (default warning) and <c>log.sink</c> (default none).</summary>
    public Logging.LogConfig Log { get; private init; } = Logging.LogConfig.Default;
    /// <summary>The loggers of this engine and of its store.</summary>
    public Logging.HostLoggerFactory Loggers { get; private init; } = new(Logging.LogConfig.Default);
    public required TaskerOptions Options { get; init; }

    public static EngineConfig Parse(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw TaskerException.InvalidArgument("engine config must be a JSON object", "config");
        var defaults = new TaskerOptions();
        var clockName = Text(json, "clock") ?? "system";
        if (clockName is not ("system" or "manual"))
            throw TaskerException.InvalidArgument($"clock must be \"system\" or \"manual\", not \"{clockName}\"", "clock");
        var manual = clockName == "manual";
        var backoff = json.TryGetProperty("backoff", out var b) && b.ValueKind == JsonValueKind.Object ? b : default;
        var retention = json.TryGetProperty("retention", out var r) && r.ValueKind == JsonValueKind.Object ? r : default;
        var logSection = json.TryGetProperty("log", out var l) && l.ValueKind == JsonValueKind.Object ? l : default;
        var log = Logging.LogConfig.Parse(Text(logSection, "level"), Text(logSection, "sink"));
        var loggers = new Logging.HostLoggerFactory(log);

        var options = new TaskerOptions
        {
            MaxAttempts = Int(json, "max_attempts") ?? defaults.MaxAttempts,
            BackoffBase = Seconds(backoff, "base_seconds") ?? defaults.BackoffBase,
            MaxBackoff = Seconds(backoff, "max_seconds") ?? defaults.MaxBackoff,
            Jitter = Number(backoff, "jitter") ?? defaults.Jitter,
            LeaseDuration = Seconds(json, "lease_seconds") ?? defaults.LeaseDuration,
            MaxFinishedTasks = Int(retention, "max_finished_tasks") ?? defaults.MaxFinishedTasks,
            EventBufferCapacity = Int(json, "event_buffer") ?? defaults.EventBufferCapacity,
            RandomSeed = Int(json, "random_seed"),
            // Which environments: overrides templates get; TASKER_ENV / RAILS_ENV / APP_ENV when not given.
            Environment = Text(json, "environment") ?? defaults.Environment,
            Time = manual ? new ManualClock() : TimeProvider.System,
            LoggerFactory = loggers,
        };
        return new EngineConfig
        {
            DatabaseUrl = Text(json, "database_url"),
            Schema = Text(json, "schema"),
            PoolSize = Int(json, "pool_size") is { } pool and > 0 ? pool : 20,
            Migrate = !json.TryGetProperty("migrate", out var m) || m.ValueKind != JsonValueKind.False,
            ManualClock = manual,
            TelemetryExporter = json.TryGetProperty("telemetry", out var t) && t.ValueKind == JsonValueKind.Object ? Text(t, "exporter") : null,
            Options = options,
            Log = log,
            Loggers = loggers,
        };
    }

    public IStore OpenStore()
    {
        if (DatabaseUrl is null)
            return new MemoryStore(Options.MaxFinishedTasks);
        return Interop.Boundary.Wait(PostgresStore.OpenAsync(new PostgresStoreOptions
        {
            ConnectionString = DatabaseUrl,
            Schema = Schema,
            MaxPoolSize = PoolSize,
            MigrateOnOpen = Migrate,
            LoggerFactory = Loggers,
        }, CancellationToken.None));
    }

    private static JsonElement? Field(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static string? Text(JsonElement obj, string name) => Field(obj, name) is { } v
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw TaskerException.InvalidArgument($"{name} must be a string", name)
        : null;

    private static double? Number(JsonElement obj, string name) => Field(obj, name) is { } v
        ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw TaskerException.InvalidArgument($"{name} must be a number", name)
        : null;

    private static int? Int(JsonElement obj, string name) => Field(obj, name) is { } v
        ? v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw TaskerException.InvalidArgument($"{name} must be an integer", name)
        : null;

    private static TimeSpan? Seconds(JsonElement obj, string name) =>
        Number(obj, name) is { } s ? s is >= 0 and < 1e9 ? TimeSpan.FromSeconds(s) : throw TaskerException.InvalidArgument($"{name} is out of range", name) : null;
}
