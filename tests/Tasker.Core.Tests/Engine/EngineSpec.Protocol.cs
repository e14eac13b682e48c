using Tasker.Core.Tests.Support;
using Xunit;

namespace Tasker.Core.Tests.Engine;

/// <summary>Step protocol v2: claims by handler, report-and-claim, deadlines, task timeouts, bad text.</summary>
public abstract partial class EngineSpec
{
    private static ClaimOptions Handlers(params string[] handlers) => new(MaxSteps: 16, Handlers: handlers.ToHashSet());

    private const string TimedStep = """
        name: timed
        namespace_name: tests
        version: 1.0.0
        steps:
          - name: slow
            handler: { callable: Slow }
            timeout_seconds: 10
            retry: { retryable: true, max_attempts: 2, backoff_base_seconds: 1 }
        """;

    // ---- who runs a step --------------------------------------------------------------------------------

    [Fact]
    public async Task A_claim_naming_handlers_takes_only_the_steps_of_those_handlers()
    {
        var task = await StartAsync(Workflows.Diamond);
        await Complete(task, "start");

        var claim = await Engine.ClaimStepsAsync(task, Handlers("b_handler"));

        Assert.Equal(["b"], claim.Claims.Select(c => c.StepName));
        var waiting = Assert.Single(claim.Outcome.WaitingForHandlers!);
        Assert.Equal("c_handler", waiting.Handler);
        Assert.Equal(["c"], waiting.Steps);
    }

    [Fact]
    public async Task A_step_whose_handler_nobody_present_has_stays_ready_and_is_never_failed()
    {
        var task = await StartAsync(Workflows.Linear);

        for (var i = 0; i < 5; i++)
        {
            var claim = await Engine.ClaimStepsAsync(task, Handlers("someone_elses_handler"));
            Assert.Empty(claim.Claims);
            Assert.Equal(RecommendedAction.Reenqueue, claim.Outcome.Action);
            Assert.Equal(Engine.Options.MissingHandlerRequeue.TotalSeconds, claim.Outcome.RequeueAfterSeconds);
            Assert.Equal("a_handler", Assert.Single(claim.Outcome.WaitingForHandlers!).Handler);
        }
        var a = (await Engine.GetTaskAsync(task)).Steps.Single(s => s.Name == "a");
        Assert.Equal((StepState.Pending, 0, true), (a.State, a.Attempts, a.Readiness.Ready));
        Assert.Single((await Engine.ClaimStepsAsync(task, Handlers("a_handler"))).Claims);
    }

    private const string SharedHandlers = """
        name: shared
        namespace_name: tests
        version: 1.0.0
        steps:
          - name: a
            handler: { callable: Fetch }
          - name: b
            handler: { callable: Store }
          - name: c
            handler: { callable: Store }
          - name: d
            handler: { callable: Store }
            dependencies: [a]
        """;

    private static string[] Waits(IReadOnlyList<HandlerWait>? waits) =>
        (waits ?? []).Select(w => $"{w.Handler}: {string.Join(",", w.Steps)}").ToArray();

    [Fact]
    public async Task A_task_lists_its_ready_steps_by_the_handler_they_wait_for_until_they_are_claimed()
    {
        var task = await StartAsync(SharedHandlers);

        Assert.Equal(["Fetch: a", "Store: b,c"], Waits((await Engine.GetTaskAsync(task)).WaitingForHandlers));

        await Engine.ClaimStepsAsync(task, Handlers("Store"));
        Assert.Equal(["Fetch: a"], Waits((await Engine.GetTaskAsync(task)).WaitingForHandlers));
    }

    [Fact]
    public async Task The_outcome_lists_the_steps_the_caller_cannot_run_in_the_order_the_task_does()
    {
        var task = await StartAsync(SharedHandlers);
        // Finishing a reorders the set of candidate steps (c moves into a's place), and d joins it after them.
        var a = (await Engine.ClaimStepsAsync(task, Handlers("Fetch"))).Claims.Single();
        await Engine.CompleteStepAsync(task, a.StepUuid, a.ClaimToken, JsonValues.Null);

        var outcome = (await Engine.ClaimStepsAsync(task, Handlers("Nobody"))).Outcome;

        Assert.Equal(["Store: b,c,d"], Waits(outcome.WaitingForHandlers));
        Assert.Equal(Waits(outcome.WaitingForHandlers), Waits((await Engine.GetTaskAsync(task)).WaitingForHandlers));
    }

    [Fact]
    public async Task Completing_a_step_with_claim_next_returns_the_next_claims_of_the_task_in_the_same_call()
    {
        var task = await StartAsync(Workflows.Linear);
        var a = (await Engine.ClaimStepsAsync(task)).Claims.Single();

        var next = await Engine.CompleteAndClaimAsync(task, a.StepUuid, a.ClaimToken, JsonValues.Parse("{\"a\": 1}", "r"), null, null, Handlers("b_handler"));

        var b = Assert.Single(next.Claims);
        Assert.Equal("b", b.StepName);
        Assert.Equal(1, b.DependencyResults.Single().Value.GetProperty("a").GetInt32());
        Assert.Equal(RecommendedAction.Wait, next.Outcome.Action);
    }

    [Fact]
    public async Task A_claim_counts_the_other_unfinished_steps_of_its_task_and_the_last_step_counts_none()
    {
        var task = await StartAsync(Workflows.Diamond);
        var start = (await Engine.ClaimStepsAsync(task)).Claims.Single();
        Assert.Equal(3, start.StepsLeft); // b, c and end are pending

        var branches = await Engine.CompleteAndClaimAsync(task, start.StepUuid, start.ClaimToken, JsonValues.EmptyObject, null, null, new ClaimOptions());
        Assert.Equal([("b", 2), ("c", 2)], branches.Claims.Select(c => (c.StepName, c.StepsLeft))); // the other branch, and end

        var (b, c) = (branches.Claims[0], branches.Claims[1]);
        await Engine.CompleteStepAsync(task, b.StepUuid, b.ClaimToken, JsonValues.EmptyObject);
        var end = await Engine.CompleteAndClaimAsync(task, c.StepUuid, c.ClaimToken, JsonValues.EmptyObject, null, null, new ClaimOptions());
        Assert.Equal(("end", 0), (Assert.Single(end.Claims).StepName, end.Claims[0].StepsLeft));
    }

    [Fact]
    public async Task A_claims_count_of_unfinished_steps_includes_steps_in_progress_and_waiting_for_retry()
    {
        var task = await StartAsync(Workflows.Tree); // root, two branches, four leaves, converge
        await Complete(task, "root");
        var branch1 = (await Engine.ClaimStepsAsync(task, Handlers("branch_1_handler"))).Claims.Single();
        Assert.Equal(6, branch1.StepsLeft); // branch_2, the four leaves, converge

        var branch2 = (await Engine.ClaimStepsAsync(task, Handlers("branch_2_handler"))).Claims.Single();
        Assert.Equal(6, branch2.StepsLeft); // branch_1 in progress, the four leaves, converge

        await Engine.FailStepAsync(task, branch1.StepUuid, branch1.ClaimToken, new StepFailure("later", RetryAfterSeconds: 60));
        await Engine.CompleteStepAsync(task, branch2.StepUuid, branch2.ClaimToken, JsonValues.EmptyObject);
        var leaf = (await Engine.ClaimStepsAsync(task, Handlers("leaf_2a_handler"))).Claims.Single();
        Assert.Equal(5, leaf.StepsLeft); // branch_1 waiting for retry, leaf_1a, leaf_1b, leaf_2b, converge
    }

    [Fact]
    public async Task Failing_a_step_with_claim_next_claims_steps_that_do_not_depend_on_it()
    {
        var task = await StartAsync(Workflows.Diamond);
        await Complete(task, "start");
        var b = (await Engine.ClaimStepsAsync(task, Handlers("b_handler"))).Claims.Single();

        var next = await Engine.FailAndClaimAsync(task, b.StepUuid, b.ClaimToken, new StepFailure("boom"), null, Handlers("c_handler"));

        Assert.Equal("c", Assert.Single(next.Claims).StepName);
    }

    // ---- the outcome's one rule for queue adapters ------------------------------------------------------

    [Fact]
    public async Task The_outcome_says_when_to_requeue_the_task_and_null_when_not_to()
    {
        var task = await StartAsync(Workflows.Linear);
        var a = (await Engine.ClaimStepsAsync(task)).Claims.Single();
        Assert.Null((await Engine.EvaluateAsync(task)).RequeueAfterSeconds); // wait: a is in flight

        var failed = await Engine.FailStepAsync(task, a.StepUuid, a.ClaimToken, new StepFailure("boom", RetryAfterSeconds: 7));
        Assert.Equal((RecommendedAction.Reenqueue, 7.0), (failed.Action, failed.RequeueAfterSeconds));

        Clock.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal(0, (await Engine.EvaluateAsync(task)).RequeueAfterSeconds); // execute: now
    }

    // ---- deadlines --------------------------------------------------------------------------------------

    [Fact]
    public async Task A_claim_carries_its_deadline_and_its_lease_never_runs_past_it()
    {
        var task = await StartAsync(TimedStep);
        var start = Clock.GetUtcNow();

        var claim = (await Engine.ClaimStepsAsync(task, new ClaimOptions(Lease: TimeSpan.FromSeconds(300)))).Claims.Single();
        Assert.Equal(start.AddSeconds(10), claim.DeadlineAt);
        Assert.Equal(start.AddSeconds(10), claim.LeaseExpiresAt);

        Clock.Advance(TimeSpan.FromSeconds(5));
        var extended = await Engine.HeartbeatAsync(task, claim.StepUuid, claim.ClaimToken, TimeSpan.FromSeconds(300));
        Assert.Equal(start.AddSeconds(10), extended);
    }

    [Fact]
    public async Task An_attempt_past_its_deadline_fails_as_a_retryable_Timeout_and_its_late_report_is_refused()
    {
        var task = await StartAsync(TimedStep);
        var claim = (await Engine.ClaimStepsAsync(task)).Claims.Single();

        Clock.Advance(TimeSpan.FromSeconds(11));
        var late = await Rejects(TaskerErrorCode.StaleClaim,
            async () => await Engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.Null));
        Assert.Contains("deadline", late.Message);

        var outcome = await Engine.EvaluateAsync(task);
        var step = (await Engine.GetTaskAsync(task)).Steps.Single();
        Assert.Equal((StepState.WaitingForRetry, "Timeout"), (step.State, step.Error?.ErrorType));
        Assert.Equal(RecommendedAction.Reenqueue, outcome.Action);
        Assert.Null(step.Result);
    }

    [Fact]
    public async Task A_task_past_its_timeout_goes_to_error_and_its_unfinished_steps_are_cancelled()
    {
        var task = await StartAsync(Workflows.Yaml("task_timeout", "timeout_seconds: 60", ("a", []), ("b", ["a"])));
        var a = (await Engine.ClaimStepsAsync(task)).Claims.Single();

        Clock.Advance(TimeSpan.FromSeconds(61));
        var outcome = await Engine.EvaluateAsync(task);

        Assert.Equal((RecommendedAction.Error, TaskState.Error, true), (outcome.Action, outcome.TaskState, outcome.Finalized));
        var view = await Engine.GetTaskAsync(task);
        Assert.All(view.Steps, s => Assert.Equal(StepState.Cancelled, s.State));
        await Rejects(TaskerErrorCode.StaleClaim, async () => await Engine.CompleteStepAsync(task, a.StepUuid, a.ClaimToken, JsonValues.Null));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("604801")]
    public async Task A_step_timeout_out_of_range_is_refused(string seconds)
    {
        var e = await Rejects(TaskerErrorCode.InvalidArgument, async () => await Engine.RegisterTemplateAsync(TimedStep.Replace("timeout_seconds: 10", $"timeout_seconds: {seconds}")));
        Assert.Contains("timeout_seconds", e.Message);
    }

    // ---- failures are cut once, in the core ------------------------------------------------------------

    [Fact]
    public async Task A_long_backtrace_keeps_its_outermost_and_innermost_frames()
    {
        var task = await StartAsync(Workflows.Linear);
        var a = (await Engine.ClaimStepsAsync(task)).Claims.Single();
        var frames = Enumerable.Range(0, 500).Select(i => $"frame {i}").ToArray();

        await Engine.FailStepAsync(task, a.StepUuid, a.ClaimToken, new StepFailure(new string('m', 10_000), "Boom", Backtrace: frames));

        var error = (await Engine.GetTaskAsync(task)).Steps.Single(s => s.Name == "a").Error!;
        Assert.Equal(201, error.Backtrace!.Count);
        Assert.Equal(("frame 0", "frame 499"), (error.Backtrace[0], error.Backtrace[^1]));
        Assert.Equal("... 300 frames omitted ...", error.Backtrace[100]);
        Assert.Equal(8192 + 3, error.Message.Length);
    }

    // ---- NUL characters: the same answer on every store ------------------------------------------------

    [Fact]
    public async Task A_context_holding_a_NUL_is_refused_naming_the_field()
    {
        var template = await Engine.RegisterTemplateAsync(Workflows.Linear);
        var e = await Rejects(TaskerErrorCode.InvalidArgument, async () => await Engine.CreateTaskAsync(new TaskRequest
        {
            Namespace = template.Namespace, Name = template.Name, Context = JsonValues.Parse("{\"note\": \"a\\u0000b\"}", "context"),
        }));
        Assert.Equal("context", e.Details["field"]);
    }

    [Theory]
    [InlineData("tags")]
    [InlineData("idempotency_key")]
    [InlineData("initiator")]
    public async Task A_request_text_holding_a_NUL_is_refused_naming_the_field(string field)
    {
        var template = await Engine.RegisterTemplateAsync(Workflows.Linear);
        var request = new TaskRequest { Namespace = template.Namespace, Name = template.Name };
        request = field switch
        {
            "tags" => request with { Tags = ["ok", "bad\0tag"] },
            "idempotency_key" => request with { IdempotencyKey = "k\0" },
            _ => request with { Initiator = "\0" },
        };
        var e = await Rejects(TaskerErrorCode.InvalidArgument, async () => await Engine.CreateTaskAsync(request));
        Assert.Equal(field, e.Details["field"]);
    }

    [Theory]
    [InlineData("name")]
    [InlineData("namespace")]
    public async Task A_task_name_or_namespace_holding_a_NUL_is_refused_naming_the_field(string field)
    {
        var template = await Engine.RegisterTemplateAsync(Workflows.Linear);
        var request = field == "name"
            ? new TaskRequest { Namespace = template.Namespace, Name = template.Name + "\0" }
            : new TaskRequest { Namespace = template.Namespace + "\0", Name = template.Name };
        var e = await Rejects(TaskerErrorCode.InvalidArgument, async () => await Engine.CreateTaskAsync(request));
        Assert.Equal(field, e.Details["field"]);
    }

    [Theory]
    [InlineData("namespace")]
    [InlineData("name")]
    public async Task A_list_filter_holding_a_NUL_is_refused(string field)
    {
        var query = field == "name" ? new TaskQuery(Name: "x\0") : new TaskQuery(Namespace: "x\0");
        var e = await Rejects(TaskerErrorCode.InvalidArgument, async () => await Engine.ListTasksAsync(query));
        Assert.Equal(field, e.Details["field"]);
    }

    [Theory]
    [InlineData("name: nul_yaml\nnamespace_name: t\nversion: 1.0.0\ndescription: \"a\\0b\"\nsteps:\n  - name: a\n    handler: A\n")]
    [InlineData("{\"name\": \"nul_json\", \"namespace_name\": \"t\", \"version\": \"1.0.0\", \"steps\": [{\"name\": \"a\", \"handler\": \"A\", \"handler_config\": {\"k\": \"a\\u0000b\"}}]}")]
    public async Task A_template_holding_a_NUL_is_refused_and_not_registered(string text)
    {
        var e = await Rejects(TaskerErrorCode.InvalidArgument, async () => await Engine.RegisterTemplateAsync(text));
        Assert.Equal("template", e.Details["field"]);
        var name = text.Contains("nul_yaml") ? "nul_yaml" : "nul_json";
        Assert.Null(await Engine.Store.FindTemplateAsync("t", name, null, CancellationToken.None));
    }

    [Fact]
    public async Task A_failure_message_holding_a_NUL_is_kept_with_the_NUL_replaced()
    {
        var task = await StartAsync(Workflows.Linear);
        var a = (await Engine.ClaimStepsAsync(task)).Claims.Single();

        await Engine.FailStepAsync(task, a.StepUuid, a.ClaimToken, new StepFailure("bad\0byte", "Nul\0Error", Backtrace: ["at\0here"]));

        var error = (await Engine.GetTaskAsync(task)).Steps.Single(s => s.Name == "a").Error!;
        Assert.Equal(("bad\uFFFDbyte", "Nul\uFFFDError", "at\uFFFDhere"), (error.Message, error.ErrorType, error.Backtrace![0]));
    }

    private async Task Complete(Guid task, string step)
    {
        var claim = (await Engine.ClaimStepsAsync(task, Handlers(step + "_handler"))).Claims.Single();
        await Engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.Null);
    }
}
