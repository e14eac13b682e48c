using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Tasker.Core.Telemetry;

namespace Tasker.Native.Hosting;

/// <summary>
/// Exports the engine's spans and metrics (the <c>Tasker</c> ActivitySource and Meter) when the host asks for it,
/// through the standard OpenTelemetry environment variables or the engine config:
/// <list type="bullet">
/// <item><c>OTEL_TRACES_EXPORTER</c> / <c>OTEL_METRICS_EXPORTER</c> = <c>otlp</c> or <c>console</c> (or
/// <c>"telemetry": {"exporter": "otlp" | "console"}</c> in the config);</item>
/// <item>OTLP settings from <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>
/// (<c>grpc</c> or <c>http/protobuf</c>), <c>OTEL_EXPORTER_OTLP_HEADERS</c>, read by the exporter itself;</item>
/// <item>setting only <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> also turns OTLP on; <c>OTEL_SDK_DISABLED=true</c> turns it all off.</item>
/// </list>
/// The providers are process-wide (the instruments are), built once by the first engine that needs them, flushed
/// when an engine is freed.
/// </summary>
internal static class TelemetrySetup
{
    private static readonly object Gate = new();
    private static TracerProvider? s_tracing;
    private static MeterProvider? s_metrics;

    public static void Ensure(string? configuredExporter)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("OTEL_SDK_DISABLED"), "true", StringComparison.OrdinalIgnoreCase)) return;
        var traces = Choose(configuredExporter, "OTEL_TRACES_EXPORTER");
        var metrics = Choose(configuredExporter, "OTEL_METRICS_EXPORTER");
        if (traces is null && metrics is null) return;

        lock (Gate)
        {
            var resource = ResourceBuilder.CreateDefault().AddService(
                Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") ?? "tasker", serviceVersion: BuildInfo.Version);
            if (s_tracing is null && traces is not null)
            {
                var builder = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(resource).AddSource(TaskerTelemetry.Name, "Npgsql"); // Npgsql's command spans nest under the tasker.* call spans
                s_tracing = (traces == "console" ? builder.AddConsoleExporter() : builder.AddOtlpExporter()).Build();
            }
            if (s_metrics is null && metrics is not null)
            {
                var builder = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddMeter(TaskerTelemetry.Name);
                s_metrics = (metrics == "console" ? builder.AddConsoleExporter() : builder.AddOtlpExporter()).Build();
            }
        }
    }

    /// <summary>Exports what is buffered (called when an engine is freed, so short-lived hosts lose nothing).</summary>
    public static void Flush()
    {
        s_tracing?.ForceFlush(5_000);
        s_metrics?.ForceFlush(5_000);
    }

    private static string? Choose(string? configured, string variable)
    {
        var value = (configured ?? Environment.GetEnvironmentVariable(variable))?.Trim().ToLowerInvariant();
        if (value is null && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
            value = "otlp";
        return value is "otlp" or "console" ? value : null;
    }
}
