using System.Text.Json;
using Tasker.Core;
using Tasker.Core.Storage;
using Tasker.Core.Storage.Memory;
using Tasker.Postgres;

namespace Tasker.Native.Hosting;

/// <summary>
/// The JSON engine configuration of <c>tasker_engine_open</c> (all fields optional; <c>{}</c> is the memory store):
/// <c>database_url, schema, pool_size, migrate, announce_tasks, durable_claims, max_attempts, backoff{base_seconds,max_seconds,jitter},
/// lease_seconds, missing_handler_requeue_seconds, work_poll_seconds, work_affinity_seconds, retention{max_finished_tasks, finished_task_days},
/// event_buffer, clock ("system"|"manual"), random_seed, environment,
/// telemetry{exporter}, log{level, sink}</c>.
/// </summary>
internal sealed class EngineConfig
{
    public string? DatabaseUrl { get; private init; }
    public string? Schema { get; private init; }
    private const int DefaultPoolSize = 20;
    private const int MaxPoolSize = 1000;
    private static readonly string[] Exporters = ["otlp", "console"];

    public int PoolSize { get; private init; } = DefaultPoolSize;
    /// <summary><c>retention.finished_task_days</c>: PostgreSQL deletes tasks finished longer ago (default: keep them).</summary>
    public TimeSpan? FinishedTaskRetention { get; private init; }
    public bool Migrate { get; private init; } = true;
    /// <summary><c>announce_tasks</c> (default true): PostgreSQL: a created task's NOTIFY carries the task, without its request data (<see cref="PostgresStoreOptions.AnnounceCreatedTasks"/>).</summary>
    public bool AnnounceTasks { get; private init; } = true;
    /// <summary><c>durable_claims</c>: PostgreSQL: claims wait for the WAL flush too (<see cref="PostgresStoreOptions.DurableClaims"/>).</summary>
    public bool DurableClaims { get; private init; }
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
            MissingHandlerRequeue = Seconds(json, "missing_handler_requeue_seconds") ?? defaults.MissingHandlerRequeue,
            WorkPollInterval = Seconds(json, "work_poll_seconds") ?? defaults.WorkPollInterval,
            WorkAffinity = Seconds(json, "work_affinity_seconds") ?? defaults.WorkAffinity,
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
            PoolSize = Int(json, "pool_size") switch
            {
                null => DefaultPoolSize,
                >= 1 and <= MaxPoolSize and var pool => pool,
                var pool => throw TaskerException.InvalidArgument($"pool_size must be between 1 and {MaxPoolSize}, not {pool}", "pool_size"),
            },
            FinishedTaskRetention = Number(retention, "finished_task_days") is { } days
                ? days is > 0 and <= 36_500 ? TimeSpan.FromDays(days) : throw TaskerException.InvalidArgument("retention.finished_task_days must be between 0 and 36500 (exclusive of 0)", "retention.finished_task_days")
                : null,
            Migrate = !json.TryGetProperty("migrate", out var m) || m.ValueKind != JsonValueKind.False,
            AnnounceTasks = Bool(json, "announce_tasks") ?? true,
            DurableClaims = Bool(json, "durable_claims") ?? false,
            ManualClock = manual,
            TelemetryExporter = Exporter(json),
            Options = options,
            Log = log,
            Loggers = loggers,
        };
    }

    /// <summary><c>telemetry.exporter</c>: one of <see cref="Exporters"/>, or absent (the OTEL_* environment decides).</summary>
    private static string? Exporter(JsonElement json)
    {
        if (Field(json, "telemetry") is not { } telemetry) return null;
        if (telemetry.ValueKind != JsonValueKind.Object)
            throw TaskerException.InvalidArgument("telemetry must be a JSON object", "telemetry");
        var exporter = Text(telemetry, "exporter");
        if (exporter is not null && Array.IndexOf(Exporters, exporter) < 0)
            throw TaskerException.InvalidArgument($"telemetry.exporter must be \"otlp\" or \"console\", not \"{exporter}\"", "telemetry.exporter");
        return exporter;
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
            FinishedTaskRetention = FinishedTaskRetention,
            MigrateOnOpen = Migrate,
            AnnounceCreatedTasks = AnnounceTasks,
            DurableClaims = DurableClaims,
            LoggerFactory = Loggers,
        }, CancellationToken.None));
    }

    private static JsonElement? Field(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static string? Text(JsonElement obj, string name) => Field(obj, name) is { } v
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw TaskerException.InvalidArgument($"{name} must be a string", name)
        : null;

    private static bool? Bool(JsonElement obj, string name) => Field(obj, name) is { } v
        ? v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw TaskerException.InvalidArgument($"{name} must be true or false", name)
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
