using System.Collections.Concurrent;
using System.Diagnostics;
using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>Traces across processes: the task's trace context is stored, and Npgsql's spans nest under the engine's.</summary>
public sealed class TracingTests : PostgresTest, IDisposable
{
    private const string HostTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private readonly ConcurrentBag<Activity> _spans = [];
    private readonly ActivityListener _listener;

    public TracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "Tasker" or "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Add,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [PostgresFact]
    public async Task A_task_s_trace_context_survives_in_the_database_and_another_process_s_step_spans_join_it()
    {
        var (creator, _) = await EngineAsync(Clock);
        await creator.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = (await creator.CreateTaskAsync(new TaskRequest
        {
            Namespace = "pg", Name = TemplateName(PgWorkflows.Flat), TraceParent = $"00-{HostTrace}-00f067aa0ba902b7-01",
        })).Task.TaskUuid;

        var (worker, _) = await EngineAsync(Clock); // its own pool and task cache, like another process
        var claim = (await worker.ClaimStepsAsync(task)).Claims[0];
        await worker.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);

        var step = Assert.Single(_spans, s => s.DisplayName == "tasker.step " + claim.StepName && (string?)s.GetTagItem("tasker.task.uuid") == task.ToString());
        Assert.Equal((HostTrace, "00f067aa0ba902b7"), (step.TraceId.ToHexString(), step.ParentSpanId.ToHexString()));
    }

    [PostgresFact]
    public async Task Npgsql_command_spans_nest_under_the_engine_call_that_ran_them()
    {
        var (engine, _) = await EngineAsync(Clock);
        await engine.RegisterTemplateAsync(PgWorkflows.Flat);
        var task = await CreateAsync(engine, PgWorkflows.Flat);
        var claim = (await engine.ClaimStepsAsync(task)).Claims[0];
        await engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);

        var complete = Assert.Single(_spans, s => s.DisplayName == "tasker.complete" && (string?)s.GetTagItem("tasker.task.uuid") == task.ToString());
        var commands = _spans.Where(s => s.Source.Name == "Npgsql" && s.ParentSpanId == complete.SpanId).ToList();
        Assert.NotEmpty(commands);
        Assert.All(commands, c => Assert.Equal(complete.TraceId, c.TraceId));
    }
}
