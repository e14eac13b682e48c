using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Tasker.Core.Telemetry;
using Tasker.Core.Tests.Support;
using Xunit;

namespace Tasker.Core.Tests.Telemetry;

/// <summary>Spans and metrics captured with the OpenTelemetry SDK's in-memory exporter.</summary>
[Collection(nameof(TelemetryTests))] // the SDK listens process-wide: keep these tests apart from each other
public sealed class TelemetryTests
{
    private readonly ManualClock _clock = new();

    private async Task<Guid> RunDiamondWithOneRetry(TaskerEngine engine)
    {
        var template = await engine.RegisterTemplateAsync(Workflows.Diamond.Replace("namespace_name: tests", "namespace_name: otel", StringComparison.Ordinal));
        var task = (await engine.CreateTaskAsync(new TaskRequest { Namespace = template.Namespace, Name = template.Name })).Task.TaskUuid;
        await new Runner(engine, _clock).On("b", Behaviour.Retryable(), Behaviour.Return("1")).RunAsync(task);
        return task;
    }

    [Fact]
    public async Task Each_step_attempt_is_a_span_with_task_and_step_attributes_and_its_real_duration()
    {
        var spans = new SpanLog();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(TaskerTelemetry.Name).AddInMemoryExporter(spans).Build();
        await using var engine = TaskerEngine.InMemory(new TaskerOptions { Time = _clock, Jitter = 0 });

        var task = await RunDiamondWithOneRetry(engine);
        tracing!.ForceFlush();

        var mine = spans.Where(s => s.DisplayName.StartsWith("tasker.step ", StringComparison.Ordinal) && (string?)s.GetTagItem("tasker.task.uuid") == task.ToString()).ToList();
        Assert.Equal(5, mine.Count); // four steps, one of them twice
        var retried = mine.Single(s => (string?)s.GetTagItem("tasker.step.outcome") == "retry");
        Assert.Equal(("tasker.step b", "b", 1, ActivityStatusCode.Error),
            (retried.DisplayName, (string?)retried.GetTagItem("tasker.step.name"), (int?)retried.GetTagItem("tasker.step.attempt"), retried.Status));
        Assert.All(mine, s => Assert.Equal("otel", s.GetTagItem("tasker.namespace")));
        Assert.Equal(2, mine.Count(s => (string?)s.GetTagItem("tasker.step.name") == "b"));
    }

    [Fact]
    public async Task Step_and_task_counters_count_what_happened()
    {
        var metrics = new List<Metric>();
        using var meters = Sdk.CreateMeterProviderBuilder().AddMeter(TaskerTelemetry.Name).AddInMemoryExporter(metrics).Build();
        await using var engine = TaskerEngine.InMemory(new TaskerOptions { Time = _clock, Jitter = 0 });

        await RunDiamondWithOneRetry(engine);
        meters!.ForceFlush();

        Assert.Equal(5, Sum(metrics, "tasker.steps.started"));
        Assert.Equal(4, Sum(metrics, "tasker.steps.completed"));
        Assert.Equal(1, Sum(metrics, "tasker.steps.retried"));
        Assert.Equal(1, Sum(metrics, "tasker.tasks.finished"));
        Assert.Contains(metrics, m => m.Name == "tasker.step.duration" && m.Unit == "ms");
        Assert.Contains(metrics, m => m.Name == "tasker.claim.latency");
    }

    [Fact]
    public async Task A_meter_listener_that_throws_neither_undoes_nor_fails_a_committed_change()
    {
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TaskerTelemetry.Name) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "tasker.namespace" && (string?)tag.Value == "otel_throws") throw new InvalidOperationException("listener bug");
        });
        listener.Start();
        await using var engine = TaskerEngine.InMemory(new TaskerOptions { Time = _clock, Jitter = 0 });
        var template = await engine.RegisterTemplateAsync(Workflows.Diamond.Replace("namespace_name: tests", "namespace_name: otel_throws", StringComparison.Ordinal));
        var task = (await engine.CreateTaskAsync(new TaskRequest { Namespace = template.Namespace, Name = template.Name })).Task.TaskUuid;

        await new Runner(engine, _clock).RunAsync(task); // every claim and report counts, and the listener throws each time

        Assert.Equal(TaskState.Complete, (await engine.GetTaskAsync(task)).State);
    }

    /// <summary>Sums a counter over this test's namespace only (other tests run in parallel in this process).</summary>
    private static long Sum(List<Metric> metrics, string name)
    {
        long total = 0;
        foreach (var metric in metrics.Where(m => m.Name == name))
            foreach (ref readonly var point in metric.GetMetricPoints())
                foreach (var tag in point.Tags)
                    if (tag.Key == "tasker.namespace" && (string?)tag.Value == "otel")
                        total += point.GetSumLong();
        return total;
    }
}
