using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Tasker.Core.Telemetry;
using Tasker.Core.Tests.Support;
using Xunit;

namespace Tasker.Core.Tests.Telemetry;

/// <summary>How the engine's spans join the host's trace: W3C traceparent on the task, on a call, or Activity.Current.</summary>
[Collection(nameof(TelemetryTests))] // the SDK listens process-wide
public sealed class TraceContextTests : IDisposable
{
    private const string HostTrace = "0af7651916cd43dd8448eb211c80319c";
    private const string HostSpan = "b7ad6b7169203331";
    private const string HostTraceParent = $"00-{HostTrace}-{HostSpan}-01";

    private readonly ManualClock _clock = new();
    private readonly SpanLog _spans = new();
    private readonly TracerProvider _tracing;

    public TraceContextTests() =>
        _tracing = Sdk.CreateTracerProviderBuilder().AddSource(TaskerTelemetry.Name).AddInMemoryExporter(_spans).Build()!;

    public void Dispose() => _tracing.Dispose();

    private async Task<(TaskerEngine Engine, Guid Task)> Linear(string? traceParent)
    {
        var engine = TaskerEngine.InMemory(new TaskerOptions { Time = _clock, Jitter = 0 });
        var template = await engine.RegisterTemplateAsync(Workflows.Yaml("traced", ("a", []), ("b", ["a"])));
        var task = (await engine.CreateTaskAsync(new TaskRequest { Namespace = template.Namespace, Name = template.Name, TraceParent = traceParent })).Task.TaskUuid;
        return (engine, task);
    }

    private List<Activity> Spans(Guid task, string prefix)
    {
        _tracing.ForceFlush();
        return _spans.Where(s => s.DisplayName.StartsWith(prefix, StringComparison.Ordinal) && (string?)s.GetTagItem("tasker.task.uuid") == task.ToString()).ToList();
    }

    [Fact]
    public async Task Step_and_task_spans_join_the_trace_the_task_was_created_in()
    {
        var (engine, task) = await Linear(HostTraceParent);
        await using var _ = engine;
        await new Runner(engine, _clock).RunAsync(task);

        var steps = Spans(task, "tasker.step ");
        Assert.Equal(2, steps.Count);
        var finished = Assert.Single(Spans(task, "tasker.task "));
        Assert.All(steps.Append(finished), s => Assert.Equal((HostTrace, HostSpan), (s.TraceId.ToHexString(), s.ParentSpanId.ToHexString())));
        Assert.Equal("complete", finished.GetTagItem("tasker.task.state"));
    }

    [Fact]
    public async Task A_traceparent_given_with_the_report_wins_over_the_task_s()
    {
        var (engine, task) = await Linear(HostTraceParent);
        await using var _ = engine;
        var claim = (await engine.ClaimStepsAsync(task)).Claims.Single();
        const string handleCall = "00-11111111111111111111111111111111-2222222222222222-01";
        using (TraceParent.Use(handleCall))
            await engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);

        var step = Assert.Single(Spans(task, "tasker.step "));
        Assert.Equal(("11111111111111111111111111111111", "2222222222222222"), (step.TraceId.ToHexString(), step.ParentSpanId.ToHexString()));
    }

    [Fact]
    public async Task Engine_calls_are_spans_under_the_host_s_current_activity()
    {
        var (engine, task) = await Linear(null);
        await using var _ = engine;
        using var hostSource = new ActivitySource("host-app");
        using var listener = new ActivityListener { ShouldListenTo = s => s.Name == "host-app", Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded };
        ActivitySource.AddActivityListener(listener);

        using (var job = hostSource.StartActivity("job"))
        {
            var claim = (await engine.ClaimStepsAsync(task)).Claims.Single();
            await engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);
            var calls = Spans(task, "tasker.").Where(s => s.DisplayName is "tasker.claim" or "tasker.complete").ToList();
            Assert.Equal(2, calls.Count);
            Assert.All(calls, s => Assert.Equal(job!.SpanId, s.ParentSpanId));
            Assert.Equal(job!.SpanId, Assert.Single(Spans(task, "tasker.step ")).ParentSpanId);
        }
    }

    [Fact]
    public async Task A_reported_handler_run_is_a_child_span_with_its_times_and_attributes()
    {
        var (engine, task) = await Linear(null);
        await using var _ = engine;
        var claim = (await engine.ClaimStepsAsync(task)).Claims.Single();
        var started = _clock.GetUtcNow().AddMilliseconds(5);
        var finished = started.AddMilliseconds(40);
        await engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject,
            handler: new HandlerRun(started, finished, [new("order.id", "o-17"), new("items", 3L), new("express", true)]));

        var step = Assert.Single(Spans(task, "tasker.step "));
        var handler = Assert.Single(_spans, s => s.DisplayName.StartsWith("tasker.handler ", StringComparison.Ordinal) && s.ParentSpanId == step.SpanId);
        Assert.Equal(step.TraceId, handler.TraceId);
        Assert.Equal((started.UtcDateTime, TimeSpan.FromMilliseconds(40)), (handler.StartTimeUtc, handler.Duration));
        Assert.Equal(("o-17", 3L, true), ((string?)handler.GetTagItem("order.id"), (long?)handler.GetTagItem("items"), (bool?)handler.GetTagItem("express")));
    }

    [Fact]
    public async Task A_failed_handler_run_is_an_error_span()
    {
        var (engine, task) = await Linear(null);
        await using var _ = engine;
        var claim = (await engine.ClaimStepsAsync(task)).Claims.Single();
        var now = _clock.GetUtcNow();
        await engine.FailStepAsync(task, claim.StepUuid, claim.ClaimToken, new StepFailure("boom", Permanent: true), new HandlerRun(now, now));

        _tracing.ForceFlush();
        var handler = Assert.Single(_spans, s => s.DisplayName.StartsWith("tasker.handler ", StringComparison.Ordinal)
            && Spans(task, "tasker.step ").Any(step => step.SpanId == s.ParentSpanId));
        Assert.Equal((ActivityStatusCode.Error, "boom"), (handler.Status, handler.StatusDescription));
    }

    [Theory]
    [InlineData("not-a-traceparent")]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01")] // all-zero trace id is invalid
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331")]
    public async Task A_malformed_traceparent_is_refused_and_no_task_is_created(string traceParent)
    {
        await using var engine = TaskerEngine.InMemory(new TaskerOptions { Time = _clock });
        var template = await engine.RegisterTemplateAsync(Workflows.Yaml("traced", ("a", [])));
        var e = await Assert.ThrowsAsync<TaskerException>(() => engine.CreateTaskAsync(new TaskRequest { Namespace = template.Namespace, Name = template.Name, TraceParent = traceParent }).AsTask());
        Assert.Equal((TaskerErrorCode.InvalidArgument, "traceparent"), (e.Code, e.Details["field"]));
        Assert.Empty(await engine.ListTasksAsync());
    }

    [Fact]
    public async Task A_handler_run_that_ends_before_it_starts_is_refused_and_the_step_stays_claimed()
    {
        var (engine, task) = await Linear(null);
        await using var _ = engine;
        var claim = (await engine.ClaimStepsAsync(task)).Claims.Single();
        var now = _clock.GetUtcNow();
        var e = await Assert.ThrowsAsync<TaskerException>(() => engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject,
            handler: new HandlerRun(now, now.AddSeconds(-1))).AsTask());
        Assert.Equal(TaskerErrorCode.InvalidArgument, e.Code);
        Assert.Equal(StepState.InProgress, (await engine.GetTaskAsync(task)).Step("a").State);
    }
}
