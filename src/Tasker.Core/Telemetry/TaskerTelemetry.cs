using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tasker.Core.Telemetry;

/// <summary>
/// The engine's OpenTelemetry instruments: an <see cref="ActivitySource"/> and a <see cref="Meter"/> both named
/// <c>Tasker</c>. They cost nothing until a listener (an OpenTelemetry SDK, dotnet-counters) subscribes.
/// Step spans are recorded when the attempt ends, with the attempt's real start time (the claim), because the
/// handler runs in the host between two engine calls.
/// </summary>
public static class TaskerTelemetry
{
    public const string Name = "Tasker";

    public static readonly ActivitySource Source = new(Name, typeof(TaskerTelemetry).Assembly.GetName().Version?.ToString());
    public static readonly Meter Meter = new(Name, typeof(TaskerTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> StepsStarted = Meter.CreateCounter<long>("tasker.steps.started", "{step}", "Step attempts claimed");
    internal static readonly Counter<long> StepsCompleted = Meter.CreateCounter<long>("tasker.steps.completed", "{step}", "Steps completed");
    internal static readonly Counter<long> StepsRetried = Meter.CreateCounter<long>("tasker.steps.retried", "{step}", "Failed attempts scheduled for retry");
    internal static readonly Counter<long> StepsFailed = Meter.CreateCounter<long>("tasker.steps.failed", "{step}", "Steps failed permanently");
    internal static readonly Counter<long> LeasesExpired = Meter.CreateCounter<long>("tasker.leases.expired", "{lease}", "Claims whose lease ran out");
    internal static readonly Counter<long> TasksFinished = Meter.CreateCounter<long>("tasker.tasks.finished", "{task}", "Tasks reaching a final state, by state");
    internal static readonly Histogram<double> StepDuration = Meter.CreateHistogram<double>("tasker.step.duration", "ms", "From claim to report, per attempt");
    internal static readonly Histogram<double> ClaimLatency = Meter.CreateHistogram<double>("tasker.claim.latency", "ms", "Time the engine spends in a claim call");
    internal static readonly Histogram<long> ReadySteps = Meter.CreateHistogram<long>("tasker.ready_steps", "{step}", "Ready steps found by an evaluation (ready-queue depth)");

    /// <summary>Records one finished step attempt as a span from its claim to now.</summary>
    internal static void RecordStepSpan(WorkflowTask task, WorkflowStep step, DateTimeOffset end, string outcome)
    {
        if (!Source.HasListeners()) return;
        using var activity = Source.StartActivity("tasker.step " + step.Name, ActivityKind.Internal, default(ActivityContext),
            startTime: step.StartedAt ?? end);
        if (activity is null) return;
        activity.SetTag("tasker.task.uuid", task.Uuid.ToString());
        activity.SetTag("tasker.task.name", task.Header.Name);
        activity.SetTag("tasker.namespace", task.Header.Namespace);
        activity.SetTag("tasker.step.uuid", step.Uuid.ToString());
        activity.SetTag("tasker.step.name", step.Name);
        activity.SetTag("tasker.step.attempt", step.Attempts);
        activity.SetTag("tasker.step.outcome", outcome);
        if (outcome != "complete")
            activity.SetStatus(ActivityStatusCode.Error, step.LastError?.Message);
        activity.SetEndTime(end.UtcDateTime);
    }

    internal static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);
}
