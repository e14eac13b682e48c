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
    /// Adds to a counter once the change is committed (<see cref="WorkflowTask.AfterCommit"/>): a change that is rejected,
    /// or re-run after losing a compare-and-set to another worker, counts nothing twice. Allocates only while someone listens.
    /// </summary>
    internal static void Count(WorkflowTask task, Counter<long> counter, long value, KeyValuePair<string, object?> tag)
    {
        if (counter.Enabled) task.AfterCommit(_ => counter.Add(value, tag));
    }

    /// <inheritdoc cref="Count(WorkflowTask, Counter{long}, long, KeyValuePair{string, object?})"/>
    internal static void Count(WorkflowTask task, Counter<long> counter, long value, KeyValuePair<string, object?> tag, KeyValuePair<string, object?> tag2)
    {
        if (counter.Enabled) task.AfterCommit(_ => counter.Add(value, tag, tag2));
    }

    /// <summary>Records a value once the change is committed (see <see cref="Count(WorkflowTask, Counter{long}, long, KeyValuePair{string, object?})"/>).</summary>
    internal static void Record(WorkflowTask task, Histogram<double> histogram, double value, KeyValuePair<string, object?> tag)
    {
        if (histogram.Enabled) task.AfterCommit(_ => histogram.Record(value, tag));
    }

    /// <inheritdoc cref="Record(WorkflowTask, Histogram{double}, double, KeyValuePair{string, object?})"/>
    internal static void Record(WorkflowTask task, Histogram<long> histogram, long value)
    {
        if (histogram.Enabled) task.AfterCommit(_ => histogram.Record(value));
    }

    /// <summary>
    /// Records one finished step attempt, once the change is committed, as a span from its claim to now, in the trace of
    /// the call that reported it (its <c>traceparent</c> or the host's activity), else in the trace the task was created
    /// in. A handler run reported by a binding becomes a <c>tasker.handler</c> child span with the handler's attributes.
    /// What the span says is taken now: the rest of the change may move the step on (a failed report's next claim can
    /// take the retried step again, with its next attempt and start).
    /// </summary>
    internal static void RecordStepSpan(WorkflowTask task, WorkflowStep step, DateTimeOffset end, string outcome, HandlerRun? handler = null)
    {
        if (!Source.HasListeners()) return;
        var span = new StepSpan(TraceParent.Current ?? StoredParent(task), task.Uuid, task.Header.Name, task.Header.Namespace, step.Uuid,
            step.Name, step.Handler, step.Attempts, step.StartedAt ?? end, end, outcome, step.LastError?.Message, handler);
        task.AfterCommit(_ => span.Record());
    }

    private sealed record StepSpan(ActivityContext? Parent, Guid TaskUuid, string TaskName, string Namespace, Guid StepUuid, string StepName,
        string Handler, int Attempt, DateTimeOffset Start, DateTimeOffset End, string Outcome, string? Error, HandlerRun? HandlerRun)
    {
        public void Record()
        {
            using var activity = Source.StartActivity("tasker.step " + StepName, ActivityKind.Internal, Parent ?? default, startTime: Start);
            if (activity is null) return;
            activity.SetTag("tasker.task.uuid", TaskUuid.ToString());
            activity.SetTag("tasker.task.name", TaskName);
            activity.SetTag("tasker.namespace", Namespace);
            activity.SetTag("tasker.step.uuid", StepUuid.ToString());
            activity.SetTag("tasker.step.name", StepName);
            activity.SetTag("tasker.step.handler", Handler);
            activity.SetTag("tasker.step.attempt", Attempt);
            activity.SetTag("tasker.step.outcome", Outcome);
            if (Outcome != "complete")
                activity.SetStatus(ActivityStatusCode.Error, Error);
            if (HandlerRun is not null)
                RecordHandlerSpan(activity.Context);
            activity.SetEndTime(End.UtcDateTime);
        }

        private void RecordHandlerSpan(ActivityContext stepSpan)
        {
            using var activity = Source.StartActivity("tasker.handler " + Handler, ActivityKind.Internal, stepSpan, startTime: HandlerRun!.StartedAt);
            if (activity is null) return;
            activity.SetTag("tasker.step.name", StepName);
            activity.SetTag("tasker.step.handler", Handler);
            foreach (var (key, value) in HandlerRun.Attributes ?? [])
                activity.SetTag(key, value);
            if (Outcome != "complete")
                activity.SetStatus(ActivityStatusCode.Error, Error);
            activity.SetEndTime(HandlerRun.FinishedAt.UtcDateTime);
        }
    }

    /// <summary>Records a finished task, once the change is committed, as one span from its creation to now, in the trace it was created in.</summary>
    internal static void RecordTaskSpan(WorkflowTask task, DateTimeOffset end)
    {
        if (!Source.HasListeners()) return;
        var (current, uuid, name, ns, version, state, created) = (TraceParent.Current, task.Uuid, task.Header.Name,
            task.Header.Namespace, task.Header.Version, task.State, task.Header.CreatedAt);
        task.AfterCommit(_ =>
        {
            // The stored trace as committed: a store may complete the header after the change (WorkFound.HeadersCompleted).
            var parent = StoredParent(task) ?? current;
            using var activity = Source.StartActivity("tasker.task " + name, ActivityKind.Internal, parent ?? default, startTime: created);
            if (activity is null) return;
            activity.SetTag("tasker.task.uuid", uuid.ToString());
            activity.SetTag("tasker.task.name", name);
            activity.SetTag("tasker.namespace", ns);
            activity.SetTag("tasker.task.version", version);
            activity.SetTag("tasker.task.state", state.ToWire());
            if (state == TaskState.Error)
                activity.SetStatus(ActivityStatusCode.Error, "task failed");
            activity.SetEndTime(end.UtcDateTime);
        });
    }

    /// <summary>The trace the task was created in (validated on the way in; a bad stored value is ignored).</summary>
    private static ActivityContext? StoredParent(WorkflowTask task) =>
        task.Header.TraceParent is { } stored && ActivityContext.TryParse(stored, null, isRemote: true, out var context) ? context : null;

    internal static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);
}
