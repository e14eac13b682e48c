using System.Text.Json;
using Tasker.Core.Tests.Support;
using Xunit;

namespace Tasker.Core.Tests.Engine;

/// <summary>Several finished steps of one task reported together (<see cref="TaskerEngine.ReportStepsAsync"/>).</summary>
public abstract partial class EngineSpec
{
    private const string ThreeAtOnce = """
        name: three_at_once
        namespace_name: tests
        version: 1.0.0
        steps:
          - name: a
            handler: { callable: Work }
          - name: b
            handler: { callable: Work }
          - name: c
            handler: { callable: Work }
            retry: { retryable: true, max_attempts: 3, backoff_base_seconds: 2 }
          - name: after_a
            handler: { callable: Work }
            dependencies: [a]
        """;

    private async Task<(Guid Task, Dictionary<string, StepClaim> Claims)> WaveAsync()
    {
        var task = await StartAsync(ThreeAtOnce);
        var claims = (await Engine.ClaimStepsAsync(task, Handlers("Work"))).Claims.ToDictionary(c => c.StepName);
        Assert.Equal(["a", "b", "c"], claims.Keys.Order());
        return (task, claims);
    }

    private static StepReport Done(StepClaim claim, string result = "{}") =>
        new(claim.StepUuid, claim.ClaimToken, JsonDocument.Parse(result).RootElement.Clone());

    private async Task<Dictionary<string, StepView>> StepsAsync(Guid task) =>
        (await Engine.GetTaskAsync(task)).Steps.ToDictionary(s => s.Name);

    [Fact]
    public async Task Reports_of_one_task_are_each_applied_as_complete_and_fail_would_apply_them()
    {
        var (task, claims) = await WaveAsync();

        var answer = await Engine.ReportStepsAsync(task,
            [Done(claims["a"], """{"n":1}"""), Done(claims["b"]), new StepReport(claims["c"].StepUuid, claims["c"].ClaimToken, Failure: new StepFailure("flaky", "IOError"))],
            claimNext: null);

        Assert.Equal([null, null, null], answer.Refused);
        var steps = await StepsAsync(task);
        Assert.Equal((StepState.Complete, StepState.Complete, StepState.WaitingForRetry), (steps["a"].State, steps["b"].State, steps["c"].State));
        Assert.Equal(1, steps["a"].Result!.Value.GetProperty("n").GetInt32());
        Assert.Equal("IOError", steps["c"].Error!.ErrorType);
        Assert.Equal(1, answer.Next.Outcome.ReadySteps); // after_a
    }

    [Fact]
    public async Task A_refused_report_is_answered_in_its_place_and_the_others_are_applied()
    {
        var (task, claims) = await WaveAsync();

        var answer = await Engine.ReportStepsAsync(task,
            [Done(claims["a"]), new StepReport(claims["b"].StepUuid, "not-the-token", JsonValues.Null), Done(claims["c"], """{"text":"a\u0000b"}""")],
            claimNext: null);

        Assert.Null(answer.Refused[0]);
        Assert.Equal(TaskerErrorCode.StaleClaim, answer.Refused[1]!.Code);
        Assert.Equal(TaskerErrorCode.InvalidArgument, answer.Refused[2]!.Code);
        var steps = await StepsAsync(task);
        Assert.Equal((StepState.Complete, StepState.InProgress, StepState.InProgress), (steps["a"].State, steps["b"].State, steps["c"].State));
    }

    [Fact]
    public async Task A_step_reported_twice_in_one_batch_is_applied_once()
    {
        var (task, claims) = await WaveAsync();

        var answer = await Engine.ReportStepsAsync(task, [Done(claims["a"], """{"first":true}"""), Done(claims["a"], """{"first":false}""")], claimNext: null);

        Assert.Null(answer.Refused[0]);
        Assert.Equal(TaskerErrorCode.StaleClaim, answer.Refused[1]!.Code);
        Assert.True((await StepsAsync(task))["a"].Result!.Value.GetProperty("first").GetBoolean());
    }

    [Fact]
    public async Task Reports_with_claim_next_return_the_steps_they_made_ready_claimed()
    {
        var (task, claims) = await WaveAsync();

        var answer = await Engine.ReportStepsAsync(task, [Done(claims["a"]), Done(claims["b"]), Done(claims["c"])], Handlers("Work"));

        Assert.Equal(["after_a"], answer.Next.Claims.Select(c => c.StepName));
        Assert.Equal(StepState.InProgress, (await StepsAsync(task))["after_a"].State);
    }

    [Fact]
    public async Task A_batch_whose_every_report_is_refused_still_answers_the_task_outcome()
    {
        var (task, claims) = await WaveAsync();

        var answer = await Engine.ReportStepsAsync(task, [new StepReport(claims["a"].StepUuid, "stale")], Handlers("Work"));

        Assert.Equal(TaskerErrorCode.StaleClaim, Assert.Single(answer.Refused)!.Code);
        Assert.Empty(answer.Next.Claims);
        Assert.Equal(3, answer.Next.Outcome.InProgressSteps);
    }

    [Fact]
    public async Task A_batch_with_no_reports_or_too_many_is_refused_whole()
    {
        var task = await StartAsync(ThreeAtOnce);

        var none = await Assert.ThrowsAsync<TaskerException>(() => Engine.ReportStepsAsync(task, [], null).AsTask());
        var many = await Assert.ThrowsAsync<TaskerException>(() =>
            Engine.ReportStepsAsync(task, Enumerable.Repeat(new StepReport(Guid.NewGuid(), "t"), TaskerEngine.MaxReportsPerCall + 1).ToList(), null).AsTask());

        Assert.Equal((TaskerErrorCode.InvalidArgument, TaskerErrorCode.InvalidArgument), (none.Code, many.Code));
    }
}
