using System.Text.Json;
using Tasker.Core.Storage;
using Tasker.Core.Tests.Support;
using Xunit;

namespace Tasker.Core.Tests.Engine;

/// <summary>
/// The engine's behaviour, written once against <see cref="IStore"/>: every store (memory, PostgreSQL) runs this
/// same specification by subclassing it.
/// </summary>
public abstract partial class EngineSpec : IAsyncLifetime
{
    protected ManualClock Clock { get; } = new();
    protected TaskerEngine Engine { get; private set; } = null!;

    /// <summary>A fresh, empty store for one test.</summary>
    protected abstract Task<IStore> CreateStoreAsync(TaskerOptions options);

    // A long work poll: a waiting work claim that returns early was woken, not polled.
    protected virtual TaskerOptions Options => new() { Time = Clock, Jitter = 0, RandomSeed = 1, WorkPollInterval = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        var options = Options;
        Engine = new TaskerEngine(await CreateStoreAsync(options), options);
        await Engine.MigrateAsync();
    }

    public async Task DisposeAsync() => await Engine.DisposeAsync();

    protected async Task<Guid> StartAsync(string yaml, string context = "{}")
    {
        var template = await Engine.RegisterTemplateAsync(yaml);
        var created = await Engine.CreateTaskAsync(new TaskRequest
        {
            Namespace = template.Namespace, Name = template.Name, Context = JsonValues.Parse(context, "context"),
            Initiator = "spec",
        });
        return created.Task.TaskUuid;
    }

    protected Runner Runner() => new(Engine, Clock);

    private static async Task<TaskerException> Rejects(TaskerErrorCode code, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<TaskerException>(call);
        Assert.Equal(code, e.Code);
        return e;
    }

    // ---- whole workflows ------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Workflows.AllShapes), MemberType = typeof(Workflows))]
    public async Task Every_shape_completes_with_each_step_run_once_after_its_dependencies(string name, string yaml, int steps)
    {
        var task = await StartAsync(yaml);
        var runner = Runner();
        var outcome = await runner.RunAsync(task);

        Assert.Equal(RecommendedAction.Complete, outcome.Action);
        var view = await Engine.GetTaskAsync(task);
        Assert.Equal(TaskState.Complete, view.State);
        Assert.Equal(steps, view.Steps.Count);
        Assert.All(view.Steps, s => Assert.Equal((StepState.Complete, 1), (s.State, s.Attempts)));
        Assert.Equal(steps, runner.Executed.Distinct().Count());
        foreach (var step in view.Steps)
            foreach (var dependency in step.Dependencies)
                Assert.True(runner.Executed.IndexOf(dependency) < runner.Executed.IndexOf(step.Name), $"{name}: {dependency} ran after {step.Name}");
    }

    [Fact]
    public async Task A_step_that_fails_twice_then_succeeds_completes_on_its_third_attempt_after_backoff()
    {
        var task = await StartAsync(Workflows.Diamond);
        var runner = Runner().On("b", Behaviour.Retryable(), Behaviour.Retryable(), Behaviour.Return("{\"b\": 3}"));

        var outcome = await runner.RunAsync(task);

        Assert.Equal(RecommendedAction.Complete, outcome.Action);
        var b = (await Engine.GetTaskAsync(task)).Step("b");
        Assert.Equal((StepState.Complete, 3), (b.State, b.Attempts));
        Assert.Equal([1.0, 2.0], runner.ReenqueueDelays);
    }

    [Fact]
    public async Task Retry_exhaustion_fails_the_step_and_then_the_task_leaving_dependents_pending()
    {
        var task = await StartAsync(Workflows.Linear);
        var outcome = await Runner().On("b", Behaviour.Retryable()).RunAsync(task);

        Assert.Equal(RecommendedAction.Error, outcome.Action);
        var view = await Engine.GetTaskAsync(task);
        Assert.Equal(TaskState.Error, view.State);
        Assert.Equal((StepState.Error, 3), (view.Step("b").State, view.Step("b").Attempts));
        Assert.True(view.Step("b").Readiness.AttemptsExhausted);
        Assert.Equal(StepState.Pending, view.Step("c").State);
        Assert.Equal(["b"], view.Step("c").Readiness.WaitingOn);
    }

    [Fact]
    public async Task A_permanent_failure_is_not_retried()
    {
        var task = await StartAsync(Workflows.Linear);
        var runner = Runner().On("a", Behaviour.Fatal());
        await runner.RunAsync(task);

        var a = (await Engine.GetTaskAsync(task)).Step("a");
        Assert.Equal((StepState.Error, 1), (a.State, a.Attempts));
        Assert.True(a.Error!.Permanent);
        Assert.Empty(runner.ReenqueueDelays);
    }

    [Fact]
    public async Task A_non_retryable_step_gets_exactly_one_attempt()
    {
        var yaml = "name: once\nnamespace_name: tests\nversion: 1.0.0\nsteps:\n  - name: only\n    handler: { callable: H }\n    retry: { retryable: false, max_attempts: 5 }\n";
        var task = await StartAsync(yaml);
        await Runner().On("only", Behaviour.Retryable()).RunAsync(task);

        var only = (await Engine.GetTaskAsync(task)).Step("only");
        Assert.Equal((StepState.Error, 1), (only.State, only.Attempts));
    }

    [Fact]
    public async Task A_failed_branch_does_not_stop_an_independent_branch()
    {
        var task = await StartAsync(Workflows.Pipeline);
        await Runner().On("transform_b", Behaviour.Fatal()).RunAsync(task);

        var view = await Engine.GetTaskAsync(task);
        Assert.Equal(TaskState.Error, view.State);
        foreach (var done in new[] { "extract_a", "extract_b", "extract_c", "transform_a", "transform_c" })
            Assert.Equal(StepState.Complete, view.Step(done).State);
        Assert.Equal(StepState.Error, view.Step("transform_b").State);
        Assert.Equal(StepState.Pending, view.Step("aggregate").State);
    }

    [Fact]
    public async Task Fail_fast_cancels_the_steps_that_have_not_started()
    {
        var task = await StartAsync(Workflows.Yaml("ff", "fail_fast: true", ("a", []), ("b", []), ("c", ["a"]), ("d", ["b"])));
        await Runner().On("a", Behaviour.Fatal()).RunAsync(task);

        var view = await Engine.GetTaskAsync(task);
        Assert.Equal(TaskState.Error, view.State);
        Assert.Equal(StepState.Cancelled, view.Step("c").State);
        Assert.Equal(StepState.Cancelled, view.Step("d").State);
        Assert.Equal(StepState.Complete, view.Step("b").State); // already running when a failed
    }

    [Fact]
    public async Task Retrying_a_failed_task_reruns_only_failed_steps_and_keeps_completed_results()
    {
        var task = await StartAsync(Workflows.Linear);
        await Runner().On("c", Behaviour.Fatal()).RunAsync(task);

        var retried = await Engine.RetryTaskAsync(task, "ops@example.com", "upstream fixed");
        Assert.Equal((TaskState.Pending, RecommendedAction.Execute), (retried.TaskState, retried.Action));
        var runner = Runner();
        var outcome = await runner.RunAsync(task);

        Assert.Equal(RecommendedAction.Complete, outcome.Action);
        Assert.Equal(["c", "d"], runner.Executed);
        var view = await Engine.GetTaskAsync(task, includeTransitions: true);
        Assert.Equal(1, view.Step("a").Attempts);
        Assert.Equal(1, view.Step("c").Attempts);
        Assert.Contains(view.Transitions, t => t.StepName is null && t.To == "pending" && t.Actor == "ops@example.com" && t.Reason == "upstream fixed");
    }

    [Fact]
    public async Task Cancelling_a_task_cancels_its_steps_and_rejects_in_flight_completions()
    {
        var task = await StartAsync(Workflows.Linear);
        var claim = (await Engine.ClaimStepsAsync(task)).Claims.Single();

        var outcome = await Engine.CancelTaskAsync(task, "ops", "customer withdrew");
        Assert.Equal(RecommendedAction.Cancelled, outcome.Action);
        await Rejects(TaskerErrorCode.StaleClaim, () => Engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject).AsTask());

        var view = await Engine.GetTaskAsync(task);
        Assert.Equal(TaskState.Cancelled, view.State);
        Assert.All(view.Steps, s => Assert.Equal(StepState.Cancelled, s.State));
    }

    [Fact]
    public async Task Resolving_a_failed_step_manually_lets_its_dependents_run_with_the_given_result()
    {
        var task = await StartAsync(Workflows.Linear);
        await Runner().On("b", Behaviour.Fatal()).RunAsync(task);

        var outcome = await Engine.ResolveStepAsync(task, "b", JsonValues.Parse("{\"manual\": 42}", "r"), "ops", "fixed by hand");
        Assert.Equal(RecommendedAction.Execute, outcome.Action);
        var claim = (await Engine.ClaimStepsAsync(task)).Claims.Single();
        Assert.Equal("c", claim.StepName);
        Assert.Equal("{\"manual\": 42}", claim.DependencyResults.Single(r => r.Key == "b").Value.GetRawText());
        await Engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);
        var final = await Runner().RunAsync(task);

        Assert.Equal(RecommendedAction.Complete, final.Action);
        Assert.Equal(TaskState.ResolvedManually, (await Engine.GetTaskAsync(task)).State);
    }

    // ---- backoff -------------------------------------------------------------------------------------

    [Fact]
    public async Task A_handler_retry_after_wins_over_exponential_backoff()
    {
        var task = await StartAsync(Workflows.Linear);
        var runner = Runner().On("a", Behaviour.Retryable(retryAfter: 7), Behaviour.Return("1"));
        await runner.RunAsync(task);
        Assert.Equal([7.0], runner.ReenqueueDelays);
    }

    [Fact]
    public async Task Retry_after_is_capped_at_the_maximum_backoff()
    {
        var task = await StartAsync(Workflows.Linear);
        var runner = Runner().On("a", Behaviour.Retryable(retryAfter: 100_000), Behaviour.Return("1"));
        await runner.RunAsync(task);
        Assert.Equal([300.0], runner.ReenqueueDelays);
    }

    [Fact]
    public async Task Backoff_doubles_per_attempt_from_the_step_base_and_is_capped_by_the_step_maximum()
    {
        var yaml = "name: slow\nnamespace_name: tests\nversion: 1.0.0\nsteps:\n  - name: s\n    handler: { callable: H }\n" +
                   "    retry: { max_attempts: 6, backoff_base_seconds: 3, max_backoff_seconds: 20 }\n";
        var task = await StartAsync(yaml);
        var runner = Runner().On("s", Behaviour.Retryable());
        await runner.RunAsync(task);
        Assert.Equal([3.0, 6.0, 12.0, 20.0, 20.0], runner.ReenqueueDelays);
    }

    [Fact]
    public async Task A_waiting_step_is_not_claimable_before_its_retry_time()
    {
        var task = await StartAsync(Workflows.Linear);
        var claim = (await Engine.ClaimStepsAsync(task)).Claims.Single();
        var outcome = await Engine.FailStepAsync(task, claim.StepUuid, claim.ClaimToken, new StepFailure("x", RetryAfterSeconds: 10));
        Assert.Equal((RecommendedAction.Reenqueue, 10.0, TaskState.WaitingForRetry), (outcome.Action, outcome.DelaySeconds, outcome.TaskState));

        Clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Empty((await Engine.ClaimStepsAsync(task)).Claims);
        var waiting = (await Engine.GetTaskAsync(task)).Step("a").Readiness;
        Assert.False(waiting.Ready);
        Assert.Equal(Clock.GetUtcNow().AddSeconds(1), waiting.RetryAt);

        Clock.Advance(TimeSpan.FromSeconds(1));
        var retry = (await Engine.ClaimStepsAsync(task)).Claims.Single();
        Assert.Equal(2, retry.Attempt);
    }

    // ---- claims, leases, fencing ---------------------------------------------------------------------

    [Fact]
    public async Task Claiming_counts_the_attempt_and_returns_context_and_dependency_results()
    {
        var task = await StartAsync(Workflows.Diamond, "{\"order\": {\"id\": 7}}");
        var start = (await Engine.ClaimStepsAsync(task, new ClaimOptions(WorkerId: "w1"))).Claims.Single();
        Assert.Equal(("start", 1, 3), (start.StepName, start.Attempt, start.MaxAttempts));
        Assert.Equal(7, start.Context.GetProperty("order").GetProperty("id").GetInt32());
        Assert.Equal("start_handler", start.Handler);
        await Engine.CompleteStepAsync(task, start.StepUuid, start.ClaimToken, JsonValues.Parse("{\"s\": 1}", "r"));

        var next = await Engine.ClaimStepsAsync(task);
        Assert.Equal(["b", "c"], next.Claims.Select(c => c.StepName));
        Assert.All(next.Claims, c => Assert.Equal("{\"s\": 1}", c.DependencyResults.Single().Value.GetRawText()));
        Assert.Equal(RecommendedAction.Wait, next.Outcome.Action);
    }

    [Fact]
    public async Task Claims_respect_max_steps()
    {
        var task = await StartAsync(Workflows.Pipeline);
        var first = await Engine.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 2));
        Assert.Equal(2, first.Claims.Count);
        Assert.Equal((RecommendedAction.Execute, 1), (first.Outcome.Action, first.Outcome.ReadySteps));
    }

    [Fact]
    public async Task A_duplicate_completion_is_rejected_and_changes_nothing()
    {
        var task = await StartAsync(Workflows.Linear);
        var claim = (await Engine.ClaimStepsAsync(task)).Claims.Single();
        await Engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.Parse("1", "r"));

        var e = await Rejects(TaskerErrorCode.StaleClaim, () => Engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.Parse("2", "r")).AsTask());
        Assert.Equal("a", e.Details["step_name"]);
        var a = (await Engine.GetTaskAsync(task)).Step("a");
        Assert.Equal("1", a.Result!.Value.GetRawText());
    }

    [Fact]
    public async Task A_wrong_claim_token_is_rejected_for_complete_fail_and_heartbeat()
    {
        var task = await StartAsync(Workflows.Linear);
        var claim = (await Engine.ClaimStepsAsync(task)).Claims.Single();

        await Rejects(TaskerErrorCode.StaleClaim, () => Engine.CompleteStepAsync(task, claim.StepUuid, "forged", JsonValues.Null).AsTask());
        await Rejects(TaskerErrorCode.StaleClaim, () => Engine.FailStepAsync(task, claim.StepUuid, "forged", new StepFailure("x")).AsTask());
        await Rejects(TaskerErrorCode.StaleClaim, () => Engine.HeartbeatAsync(task, claim.StepUuid, "forged").AsTask());
        Assert.Equal(StepState.InProgress, (await Engine.GetTaskAsync(task)).Step("a").State);
    }

    [Fact]
    public async Task An_expired_lease_makes_the_step_claimable_again_and_fences_the_old_holder()
    {
        var task = await StartAsync(Workflows.Linear);
        var first = (await Engine.ClaimStepsAsync(task, new ClaimOptions(Lease: TimeSpan.FromSeconds(30)))).Claims.Single();
        Clock.Advance(TimeSpan.FromSeconds(31));

        var second = (await Engine.ClaimStepsAsync(task)).Claims.Single();
        Assert.Equal((first.StepUuid, 2), (second.StepUuid, second.Attempt));
        await Rejects(TaskerErrorCode.StaleClaim, () => Engine.CompleteStepAsync(task, first.StepUuid, first.ClaimToken, JsonValues.Null).AsTask());
        await Engine.CompleteStepAsync(task, second.StepUuid, second.ClaimToken, JsonValues.Null);
        Assert.Equal(StepState.Complete, (await Engine.GetTaskAsync(task)).Step("a").State);
    }

    [Fact]
    public async Task A_lease_that_expires_with_no_attempts_left_fails_the_step()
    {
        var yaml = "name: one\nnamespace_name: tests\nversion: 1.0.0\nsteps:\n  - name: s\n    handler: { callable: H }\n    retry: { max_attempts: 1 }\n";
        var task = await StartAsync(yaml);
        await Engine.ClaimStepsAsync(task, new ClaimOptions(Lease: TimeSpan.FromSeconds(5)));
        Clock.Advance(TimeSpan.FromSeconds(6));

        var outcome = await Engine.EvaluateAsync(task);
        Assert.Equal((RecommendedAction.Error, true), (outcome.Action, outcome.Finalized));
        var view = await Engine.GetTaskAsync(task, includeTransitions: true);
        Assert.Equal("LeaseExpired", view.Step("s").Error!.ErrorType);
        Assert.Contains(view.Transitions, t => t.StepName == "s" && t.To == "error" && t.Reason == "lease expired");
    }

    [Fact]
    public async Task A_heartbeat_extends_the_lease()
    {
        var task = await StartAsync(Workflows.Linear);
        var claim = (await Engine.ClaimStepsAsync(task, new ClaimOptions(Lease: TimeSpan.FromSeconds(10)))).Claims.Single();
        Clock.Advance(TimeSpan.FromSeconds(8));
        var expires = await Engine.HeartbeatAsync(task, claim.StepUuid, claim.ClaimToken, TimeSpan.FromSeconds(10));
        Assert.Equal(Clock.GetUtcNow().AddSeconds(10), expires);
        Clock.Advance(TimeSpan.FromSeconds(8));

        Assert.Equal(RecommendedAction.Wait, (await Engine.EvaluateAsync(task)).Action);
        await Engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.Null);
    }

    [Fact]
    public async Task Stale_work_lists_expired_leases_and_due_retries()
    {
        var crashed = await StartAsync(Workflows.Linear);
        await Engine.ClaimStepsAsync(crashed, new ClaimOptions(Lease: TimeSpan.FromSeconds(5)));
        var retrying = await StartAsync(Workflows.Diamond);
        var claim = (await Engine.ClaimStepsAsync(retrying)).Claims.Single();
        await Engine.FailStepAsync(retrying, claim.StepUuid, claim.ClaimToken, new StepFailure("x", RetryAfterSeconds: 3));
        Assert.Empty((await Engine.ListStaleWorkAsync()).TaskUuids);

        Clock.Advance(TimeSpan.FromSeconds(6));
        var stale = await Engine.ListStaleWorkAsync();
        Assert.Equal(crashed, stale.ExpiredLeases.Single().TaskUuid);
        Assert.Equal(retrying, stale.RetryDue.Single().TaskUuid);
    }

    [Fact]
    public async Task Stale_work_lists_a_task_nobody_drove_and_its_unclaimed_step_once_past_the_thresholds()
    {
        var task = await StartAsync(Workflows.Linear); // created, never enqueued
        Clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Empty((await Engine.ListStaleWorkAsync()).TaskUuids);

        Clock.Advance(TimeSpan.FromMinutes(2));
        var stale = await Engine.ListStaleWorkAsync();
        var undriven = stale.UndrivenTasks.Single();
        Assert.Equal((task, "tests", "linear"), (undriven.TaskUuid, undriven.Namespace, undriven.Name));
        var step = stale.UnclaimedSteps.Single();
        Assert.Equal(("a", "a_handler", task), (step.StepName, step.Handler, step.TaskUuid));
        Assert.Equal(Clock.GetUtcNow().AddMinutes(-6), step.ReadySince);
        Assert.Equal([task], stale.TaskUuids);

        var strict = await Engine.ListStaleWorkAsync(100, new StaleThresholds(TimeSpan.FromHours(1), TimeSpan.FromHours(1)));
        Assert.Empty(strict.TaskUuids);
        await Rejects(TaskerErrorCode.InvalidArgument,
            () => Engine.ListStaleWorkAsync(100, new StaleThresholds(TimeSpan.FromSeconds(-1), TimeSpan.Zero)).AsTask());
    }

    [Fact]
    public async Task Stale_work_lists_a_ready_step_nobody_claimed_after_its_parent_finished()
    {
        var task = await StartAsync(Workflows.Diamond);
        var claim = (await Engine.ClaimStepsAsync(task)).Claims.Single();
        Clock.Advance(TimeSpan.FromMinutes(10));
        await Engine.CompleteStepAsync(task, claim.StepUuid, claim.ClaimToken, JsonValues.Null); // b and c are now ready
        var finished = Clock.GetUtcNow();
        Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Empty((await Engine.ListStaleWorkAsync()).UnclaimedSteps); // ready for 3 minutes only

        var stale = await Engine.ListStaleWorkAsync(100, new StaleThresholds(TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(2)));
        Assert.Equal(["b_handler", "c_handler"], stale.UnclaimedSteps.Select(s => s.Handler).Order());
        Assert.All(stale.UnclaimedSteps, s => Assert.Equal(finished, s.ReadySince));
        Assert.Empty(stale.UndrivenTasks); // in progress, not pending
    }

    [Fact]
    public async Task Stale_work_lists_a_task_retried_by_an_operator_that_nobody_drove_since()
    {
        var task = await StartAsync(Workflows.Linear);
        await Runner().On("a", Behaviour.Fatal()).RunAsync(task);
        Clock.Advance(TimeSpan.FromHours(1));
        await Engine.RetryTaskAsync(task, "ops", "fixed");
        var retriedAt = Clock.GetUtcNow();
        Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty((await Engine.ListStaleWorkAsync()).TaskUuids); // just retried: not stale yet

        Clock.Advance(TimeSpan.FromMinutes(5));
        var stale = await Engine.ListStaleWorkAsync();
        Assert.Equal(retriedAt, stale.UndrivenTasks.Single().PendingSince);
        Assert.Equal(("a", retriedAt), (stale.UnclaimedSteps.Single().StepName, stale.UnclaimedSteps.Single().ReadySince));
    }

    // ---- creation, identity, lookup --------------------------------------------------------------------

    [Fact]
    public async Task An_idempotency_key_returns_the_existing_task()
    {
        var template = await Engine.RegisterTemplateAsync(Workflows.Linear);
        var request = new TaskRequest { Namespace = "tests", Name = "linear", IdempotencyKey = "order-123" };
        var first = await Engine.CreateTaskAsync(request);
        var second = await Engine.CreateTaskAsync(request with { Context = JsonValues.Parse("{\"x\":1}", "c") });

        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.Equal(first.Task.TaskUuid, second.Task.TaskUuid);
        Assert.Equal(template.Version.ToString(), second.Task.Header.Version);
    }

    [Fact]
    public async Task Strict_identity_treats_contexts_that_differ_only_in_key_order_as_the_same_task()
    {
        await Engine.RegisterTemplateAsync(Workflows.Yaml("strict", "identity_strategy: strict", ("a", [])));
        var one = await Engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "strict", Context = JsonValues.Parse("{\"a\":1,\"b\":2}", "c") });
        var two = await Engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "strict", Context = JsonValues.Parse("{\"b\":2,\"a\":1}", "c") });
        var other = await Engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "strict", Context = JsonValues.Parse("{\"a\":2}", "c") });

        Assert.Equal((true, false, true), (one.Created, two.Created, other.Created));
        Assert.Equal(one.Task.TaskUuid, two.Task.TaskUuid);
    }

    [Fact]
    public async Task A_request_without_version_gets_the_newest_and_an_explicit_version_is_honoured()
    {
        await Engine.RegisterTemplateAsync(Workflows.Linear.Replace("1.0.0", "1.2.0", StringComparison.Ordinal));
        await Engine.RegisterTemplateAsync(Workflows.Linear.Replace("1.0.0", "1.10.0", StringComparison.Ordinal));
        await Engine.RegisterTemplateAsync(Workflows.Linear.Replace("1.0.0", "1.9.0", StringComparison.Ordinal));

        var newest = await Engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "linear" });
        var pinned = await Engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "linear", Version = "1.2.0" });
        Assert.Equal("1.10.0", newest.Task.Header.Version);
        Assert.Equal("1.2.0", pinned.Task.Header.Version);
        await Rejects(TaskerErrorCode.NotFound, () => Engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "linear", Version = "3.0.0" }).AsTask());
    }

    [Fact]
    public async Task Unknown_templates_tasks_and_steps_are_not_found()
    {
        await Rejects(TaskerErrorCode.NotFound, () => Engine.CreateTaskAsync(new TaskRequest { Namespace = "nope", Name = "missing" }).AsTask());
        await Rejects(TaskerErrorCode.NotFound, () => Engine.GetTaskAsync(Guid.NewGuid()).AsTask());
        await Rejects(TaskerErrorCode.NotFound, () => Engine.EvaluateAsync(Guid.NewGuid()).AsTask());
        var task = await StartAsync(Workflows.Linear);
        await Rejects(TaskerErrorCode.NotFound, () => Engine.ResolveStepAsync(task, "no_such_step").AsTask());
        await Rejects(TaskerErrorCode.NotFound, () => Engine.CompleteStepAsync(task, Guid.NewGuid(), "t", JsonValues.Null).AsTask());
    }

    [Fact]
    public async Task A_context_that_violates_the_input_schema_is_rejected_with_the_offending_path()
    {
        var yaml = "name: typed\nnamespace_name: tests\nversion: 1.0.0\ninput_schema:\n  type: object\n  required: [order]\n" +
                   "  properties:\n    order:\n      type: object\n      required: [id]\n      properties:\n        id: { type: integer }\n" +
                   "steps:\n  - name: a\n    handler: { callable: H }\n";
        await Engine.RegisterTemplateAsync(yaml);
        var e = await Rejects(TaskerErrorCode.InvalidArgument, () => Engine.CreateTaskAsync(new TaskRequest
        { Namespace = "tests", Name = "typed", Context = JsonValues.Parse("{\"order\": {\"id\": \"x\"}}", "c") }).AsTask());
        Assert.Contains("$.order.id:", e.Message, StringComparison.Ordinal);

        var ok = await Engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "typed", Context = JsonValues.Parse("{\"order\": {\"id\": 5}}", "c") });
        Assert.True(ok.Created);
        Assert.Equal([ok.Task.TaskUuid], (await Engine.ListTasksAsync(new TaskQuery(Name: "typed"))).Select(t => t.TaskUuid));
    }

    // ---- Rails Tasker requests: bypass_steps, requested_at, schema -----------------------------------------

    private const string Skippable = "name: shop/skip\nversion: 1.0.0\nstep_templates:\n" +
        "  - name: a\n    handler_class: A\n" +
        "  - name: notify\n    handler_class: N\n    depends_on_step: a\n    skippable: true\n" +
        "  - name: close\n    handler_class: C\n    depends_on_step: notify\n";

    [Fact]
    public async Task A_skippable_step_named_in_bypass_steps_never_runs_and_its_dependents_do()
    {
        await Engine.RegisterTemplateAsync(Skippable);
        var requestedAt = new DateTimeOffset(2026, 1, 31, 10, 0, 0, TimeSpan.Zero);
        var created = await Engine.CreateTaskAsync(new TaskRequest
        {
            Namespace = "default", Name = "shop/skip", BypassSteps = ["notify"], RequestedAt = requestedAt, Initiator = "spec",
        });
        var runner = Runner();
        var outcome = await runner.RunAsync(created.Task.TaskUuid);

        Assert.Equal(RecommendedAction.Complete, outcome.Action);
        Assert.Equal(["a", "close"], runner.Executed);
        var task = await Engine.GetTaskAsync(created.Task.TaskUuid, includeTransitions: true);
        var notify = task.Steps.Single(s => s.Name == "notify");
        Assert.Equal((StepState.Complete, 0, null), (notify.State, notify.Attempts, notify.Result));
        Assert.True(notify.Metadata!.Value.GetProperty("bypassed").GetBoolean());
        Assert.Contains(task.Transitions, t => t.StepName == "notify" && t.Reason == "bypassed (bypass_steps)");
        Assert.Equal(requestedAt, task.Header.RequestedAt);
        Assert.Equal(TaskState.Complete, task.State);
    }

    [Fact]
    public async Task Bypass_steps_must_name_skippable_steps_of_the_template()
    {
        await Engine.RegisterTemplateAsync(Skippable);
        var notSkippable = await Rejects(TaskerErrorCode.InvalidArgument, () => Engine.CreateTaskAsync(new TaskRequest
        { Namespace = "default", Name = "shop/skip", BypassSteps = ["close"] }).AsTask());
        Assert.Contains("does not mark skippable", notSkippable.Message, StringComparison.Ordinal);
        var unknown = await Rejects(TaskerErrorCode.InvalidArgument, () => Engine.CreateTaskAsync(new TaskRequest
        { Namespace = "default", Name = "shop/skip", BypassSteps = ["nope"] }).AsTask());
        Assert.Contains("'nope', which is not a step", unknown.Message, StringComparison.Ordinal);
        Assert.Empty(await Engine.ListTasksAsync(new TaskQuery(Name: "shop/skip")));
    }

    [Fact]
    public async Task Requested_at_defaults_to_the_creation_time()
    {
        var task = await StartAsync(Workflows.Linear);
        var view = await Engine.GetTaskAsync(task);
        Assert.Equal(view.Header.CreatedAt, view.Header.RequestedAt);
    }

    [Fact]
    public async Task The_newest_version_follows_semver_precedence()
    {
        foreach (var version in new[] { "1.0.0-beta.2", "1.0.0-beta.10", "0.9.0+build.5" })
            await Engine.RegisterTemplateAsync($"name: v\nversion: {version}\nsteps:\n  - name: a\n    handler: A\n");
        var created = await Engine.CreateTaskAsync(new TaskRequest { Namespace = "default", Name = "v" });
        Assert.Equal("1.0.0-beta.10", created.Task.Header.Version);
        var exact = await Engine.CreateTaskAsync(new TaskRequest { Namespace = "default", Name = "v", Version = "0.9.0+build.5" });
        Assert.Equal("0.9.0+build.5", exact.Task.Header.Version);
    }

    [Fact]
    public async Task A_rails_schema_rejects_a_context_of_the_wrong_type()
    {
        await Engine.RegisterTemplateAsync("name: api/cart\nversion: 1.0.0\nschema:\n  type: object\n  required: [cart_id]\n" +
            "  properties:\n    cart_id: { type: integer }\nstep_templates:\n  - name: a\n    handler_class: A\n");
        var e = await Rejects(TaskerErrorCode.InvalidArgument, () => Engine.CreateTaskAsync(new TaskRequest
        { Namespace = "default", Name = "api/cart", Context = JsonValues.Parse("{\"cart_id\": \"x\"}", "c") }).AsTask());
        Assert.Contains("$.cart_id:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tasks_are_listed_newest_first_and_filtered_by_state_and_namespace()
    {
        var done = await StartAsync(Workflows.Linear);
        await Runner().RunAsync(done);
        Clock.Advance(TimeSpan.FromSeconds(1));
        var open = await StartAsync(Workflows.Diamond);

        var all = await Engine.ListTasksAsync(new TaskQuery(Namespace: "tests"));
        Assert.Equal([open, done], all.Select(t => t.TaskUuid));
        Assert.Equal([done], (await Engine.ListTasksAsync(new TaskQuery(State: TaskState.Complete))).Select(t => t.TaskUuid));
        Assert.Empty(await Engine.ListTasksAsync(new TaskQuery(Namespace: "elsewhere")));
        // An unfinished state and a finished one, each with another filter (PostgreSQL: each has its own statement).
        var openState = (await Engine.GetTaskAsync(open)).State;
        Assert.Equal([open], (await Engine.ListTasksAsync(new TaskQuery(State: openState, Namespace: "tests"))).Select(t => t.TaskUuid));
        Assert.Equal([done], (await Engine.ListTasksAsync(new TaskQuery(State: TaskState.Complete, Namespace: "tests"))).Select(t => t.TaskUuid));
        Assert.Empty(await Engine.ListTasksAsync(new TaskQuery(State: TaskState.Error)));
        Assert.Empty(await Engine.ListTasksAsync(new TaskQuery(State: openState, Namespace: "elsewhere")));
    }

    // ---- state machines and the audit trail ------------------------------------------------------------

    [Fact]
    public async Task An_illegal_transition_names_both_states_and_a_repeated_one_is_a_no_op()
    {
        var task = await StartAsync(Workflows.Linear);
        await Runner().RunAsync(task);

        var e = await Rejects(TaskerErrorCode.InvalidState, () => Engine.CancelTaskAsync(task).AsTask());
        Assert.Equal(("complete", "cancelled"), (e.Details["from"], e.Details["to"]));
        await Rejects(TaskerErrorCode.InvalidState, () => Engine.RetryTaskAsync(task).AsTask());

        var other = await StartAsync(Workflows.Diamond);
        await Engine.CancelTaskAsync(other);
        var again = await Engine.CancelTaskAsync(other);
        Assert.Equal(RecommendedAction.Cancelled, again.Action);
    }

    [Fact]
    public async Task Every_transition_is_recorded_in_order_in_the_audit_trail()
    {
        var task = await StartAsync(Workflows.Linear);
        await Runner().On("b", Behaviour.Retryable(), Behaviour.Return("2")).RunAsync(task);

        var trail = (await Engine.GetTaskAsync(task, includeTransitions: true)).Transitions;
        var b = trail.Where(t => t.StepName == "b").Select(t => $"{t.From}->{t.To}").ToArray();
        Assert.Equal(["pending->in_progress", "in_progress->waiting_for_retry", "waiting_for_retry->in_progress", "in_progress->complete"], b);
        var taskLevel = trail.Where(t => t.StepName is null).Select(t => $"{t.From}->{t.To}").ToArray();
        Assert.Equal(["->pending", "pending->in_progress", "in_progress->waiting_for_retry", "waiting_for_retry->in_progress", "in_progress->complete"], taskLevel);
        Assert.True(trail.Zip(trail.Skip(1)).All(p => p.First.At <= p.Second.At));
    }

    [Fact]
    public async Task The_one_call_that_finishes_a_task_reports_finalized()
    {
        var task = await StartAsync(Workflows.Yaml("pair", ("a", []), ("b", [])));
        var claims = (await Engine.ClaimStepsAsync(task)).Claims;
        var first = await Engine.CompleteStepAsync(task, claims[0].StepUuid, claims[0].ClaimToken, JsonValues.Null);
        var second = await Engine.CompleteStepAsync(task, claims[1].StepUuid, claims[1].ClaimToken, JsonValues.Null);
        var third = await Engine.EvaluateAsync(task);

        Assert.Equal((false, true, false), (first.Finalized, second.Finalized, third.Finalized));
    }

    // ---- concurrency -----------------------------------------------------------------------------------

    [Fact]
    public async Task Many_workers_run_every_step_exactly_once_and_finalize_every_task_once()
    {
        var template = await Engine.RegisterTemplateAsync(Workflows.Mixed);
        var tasks = new List<Guid>();
        for (var i = 0; i < 40; i++)
            tasks.Add((await Engine.CreateTaskAsync(new TaskRequest { Namespace = "tests", Name = "mixed" })).Task.TaskUuid);

        var executions = new System.Collections.Concurrent.ConcurrentBag<(Guid, string)>();
        var finalized = 0;
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var idle = 0;
            while (idle < 3)
            {
                var progressed = false;
                foreach (var task in tasks)
                {
                    var claim = await Engine.ClaimStepsAsync(task, new ClaimOptions(MaxSteps: 1, WorkerId: $"w{w}"));
                    foreach (var step in claim.Claims)
                    {
                        executions.Add((task, step.StepName));
                        var outcome = await Engine.CompleteStepAsync(task, step.StepUuid, step.ClaimToken, JsonValues.Null);
                        if (outcome.Finalized) Interlocked.Increment(ref finalized);
                        progressed = true;
                    }
                }
                idle = progressed ? 0 : idle + 1;
            }
        })).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(tasks.Count * template.Steps.Count, executions.Count);
        Assert.Equal(executions.Count, executions.Distinct().Count());
        Assert.Equal(tasks.Count, finalized);
        foreach (var task in tasks)
            Assert.Equal(TaskState.Complete, (await Engine.GetTaskAsync(task)).State);
    }
}
