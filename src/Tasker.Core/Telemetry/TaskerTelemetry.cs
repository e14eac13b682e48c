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

    /// <summary>
    /// A span around one engine call (<c>tasker.claim</c>, <c>tasker.complete</c>, ...) so that the store's own spans
    /// (Npgsql's) nest under it. Its parent is the call's explicit <see cref="TraceParent"/> or the host's current
    /// activity. Null when nobody listens.
    /// </summary>
    internal static Activity? StartOperation(string operation, Guid? taskUuid)
    {
        if (!Source.HasListeners()) return null;
        var activity = Source.StartActivity("tasker." + operation, ActivityKind.Internal, TraceParent.Current ?? default);
        if (taskUuid is { } uuid) activity?.SetTag("tasker.task.uuid", uuid.ToString());
        return activity;
    }

    /// <summary>
    /// Records one finished step attempt as a span from its claim to now, in the trace of the call that reported it
    /// (its <c>traceparent</c> or the host's activity), else in the trace the task was created in. A handler run
    /// reported by a binding becomes a <c>tasker.handler</c> child span with the handler's attributes.
    /// </summary>
    internal static void RecordStepSpan(WorkflowTask task, WorkflowStep step, DateTimeOffset end, string outcome, HandlerRun? handler = null)
    {
        if (!Source.HasListeners()) return;
        var parent = TraceParent.Current ?? StoredParent(task);
        using var activity = Source.StartActivity("tasker.step " + step.Name, ActivityKind.Internal, parent ?? default,
            startTime: step.StartedAt ?? end);
        if (activity is null) return;
        activity.SetTag("tasker.task.uuid", task.Uuid.ToString());
        activity.SetTag("tasker.task.name", task.Header.Name);
        activity.SetTag("tasker.namespace", task.Header.Namespace);
        activity.SetTag("tasker.step.uuid", step.Uuid.ToString());
        activity.SetTag("tasker.step.name", step.Name);
        activity.SetTag("tasker.step.handler", step.Handler);
        activity.SetTag("tasker.step.attempt", step.Attempts);
        activity.SetTag("tasker.step.outcome", outcome);
        if (outcome != "complete")
            activity.SetStatus(ActivityStatusCode.Error, step.LastError?.Message);
        if (handler is not null)
            RecordHandlerSpan(activity.Context, step, handler, outcome);
        activity.SetEndTime(end.UtcDateTime);
    }

    private static void RecordHandlerSpan(ActivityContext stepSpan, WorkflowStep step, HandlerRun handler, string outcome)
    {
        using var activity = Source.StartActivity("tasker.handler " + step.Handler, ActivityKind.Internal, stepSpan,
            startTime: handler.StartedAt);
        if (activity is null) return;
        activity.SetTag("tasker.step.name", step.Name);
        activity.SetTag("tasker.step.handler", step.Handler);
        foreach (var (key, value) in handler.Attributes ?? [])
            activity.SetTag(key, value);
        if (outcome != "complete")
            activity.SetStatus(ActivityStatusCode.Error, step.LastError?.Message);
        activity.SetEndTime(handler.FinishedAt.UtcDateTime);
    }

    /// <summary>Records a finished task as one span from its creation to now, in the trace it was created in.</summary>
    internal static void RecordTaskSpan(WorkflowTask task, DateTimeOffset end)
    {
        if (!Source.HasListeners()) return;
        using var activity = Source.StartActivity("tasker.task " + task.Header.Name, ActivityKind.Internal,
            StoredParent(task) ?? TraceParent.Current ?? default, startTime: task.Header.CreatedAt);
        if (activity is null) return;
        activity.SetTag("tasker.task.uuid", task.Uuid.ToString());
        activity.SetTag("tasker.task.name", task.Header.Name);
        activity.SetTag("tasker.namespace", task.Header.Namespace);
        activity.SetTag("tasker.task.version", task.Header.Version);
        activity.SetTag("tasker.task.state", task.State.ToWire());
        if (task.State == TaskState.Error)
            activity.SetStatus(ActivityStatusCode.Error, "task failed");
        activity.SetEndTime(end.UtcDateTime);
    }

    /// <summary>The trace the task was created in (validated on the way in; a bad stored value is ignored).</summary>
    private static ActivityContext? StoredParent(WorkflowTask task) =>
        task.Header.TraceParent is { } stored && ActivityContext.TryParse(stored, null, isRemote: true, out var context) ? context : null;

    internal static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);
}
