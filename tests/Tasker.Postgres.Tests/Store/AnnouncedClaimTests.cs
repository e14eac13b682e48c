using System.Diagnostics;
using Npgsql;
using Tasker.Core;
using Tasker.Postgres.Tests.Support;
using Xunit;

namespace Tasker.Postgres.Tests.Store;

/// <summary>
/// A worker waiting for work claims a task created in another process in one round trip, from the task its creation's
/// NOTIFY carries (<see cref="Work.Announcement"/>, without its request data); the claim's write checks that copy
/// against the task's rows and returns the rest, and whatever it cannot prove is found as before.
/// </summary>
public sealed class AnnouncedClaimTests : PostgresTest
{
    private static readonly string One = PgWorkflows.Yaml("one", ("only", []));

    /// <summary>A step a create may bypass: the announced copy then carries a finished step.</summary>
    private static readonly string Skippy = PgWorkflows.Skippable();
    /// <summary>A namespace of its own, so this class's meter readings are its own (the meter is process-wide).</summary>
    private static readonly string Counted = """
        name: counted
        namespace_name: counted
        version: 1.0.0
        steps:
          - name: only
            handler: { callable: only_handler }
        """;
    /// <summary><see cref="One"/>'s step under another template, with other retries: another definition key.</summary>
    private static readonly string Twin = """
        name: twin
        namespace_name: pg
        version: 1.0.0
        steps:
          - name: only
            handler: { callable: only_handler }
            retry: { retryable: true, max_attempts: 7, backoff_base_seconds: 2 }
        """;
    /// <summary>Two steps, the second after the first: an announcement of more than one step.</summary>
    private static readonly string Pair = PgWorkflows.Yaml("pair", ("only", []), ("after", ["only"]));
    /// <summary>One step of the worker's, then 229 others after it: too many step uuids for a NOTIFY payload.</summary>
    private static readonly string Broad = PgWorkflows.Yaml("broad",
        [("only", []), .. Enumerable.Range(0, 229).Select(i => ($"b{i}", new[] { "only" }))]);
    private static readonly HashSet<string> Handlers = new(StringComparer.Ordinal) { "only_handler" };
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    private static PostgresStoreOptions Silent(PostgresStoreOptions o) => new()
    {
        ConnectionString = o.ConnectionString, Schema = o.Schema, ApplicationName = o.ApplicationName, AnnounceCreatedTasks = false,
    };

    [PostgresFact]
    public async Task A_waiting_worker_claims_a_task_created_elsewhere_in_one_round_trip()
    {
        var (creator, _) = await EngineAsync();
        var (worker, store) = await WaitingWorkerAsync(creator);
        var (waiting, finds) = await WaitingClaimAsync(worker, store); // its find came back empty; it listens
        var before = (Statistics: store.Statistics, Finds: finds());

        var task = await CreateAsync(creator, One);

        var claim = Assert.Single(await waiting);
        Assert.Equal(task, claim.TaskUuid);
        var cost = store.Statistics.Since(before.Statistics);
        Assert.Equal((1L, 1L, 0), (cost.AnnouncedClaims, cost.RoundTrips, finds() - before.Finds));
        Assert.Equal(("in_progress", "w"), await StepAsync(task));
    }

    [PostgresFact]
    public async Task An_announced_claim_commits_without_waiting_for_the_flush()
    {
        var (creator, _) = await EngineAsync();
        var (worker, store) = await WaitingWorkerAsync(creator);
        var (waiting, _) = await WaitingClaimAsync(worker, store);
        var before = store.Statistics;

        await CreateAsync(creator, One);

        Assert.Single(await waiting);
        var cost = store.Statistics.Since(before);
        Assert.Equal((1L, 1L), (cost.AnnouncedClaims, cost.UnflushedClaimWrites));
    }

    [PostgresFact]
    public async Task Two_waiting_workers_race_for_one_announced_task_and_one_claims_it()
    {
        var (creator, _) = await EngineAsync();
        var (a, storeA) = await WaitingWorkerAsync(creator);
        var (b, storeB) = await WaitingWorkerAsync(creator);
        var waiting = new[] { (await WaitingClaimAsync(a, storeA, TimeSpan.FromSeconds(3))).Claims, (await WaitingClaimAsync(b, storeB, TimeSpan.FromSeconds(3))).Claims };

        var task = await CreateAsync(creator, One);

        var claims = (await Task.WhenAll(waiting)).SelectMany(c => c).ToList();
        Assert.Equal(task, Assert.Single(claims).TaskUuid);
        Assert.Equal(1, await TestSql.ScalarAsync<int>(Schema,
            "SELECT count(*)::int FROM tasker_workflow_step_transitions WHERE task_uuid = $1 AND to_state = 'in_progress'", task));
        Assert.Equal(1L, storeA.Statistics.AnnouncedClaims + storeB.Statistics.AnnouncedClaims);
    }

    [PostgresFact]
    public async Task An_announced_task_changed_since_is_not_claimed_from_its_copy()
    {
        var (creator, _) = await EngineAsync();
        var (worker, store) = await WaitingWorkerAsync(creator);
        var task = await CreateAsync(creator, One);
        await UntilAsync(() => store.AnnouncedTasks == 1);
        await CancelElsewhereAsync(task);
        var before = store.Statistics;

        var claims = await ClaimAsync(worker, "w", TimeSpan.Zero);

        Assert.Empty(claims);
        var cost = store.Statistics.Since(before);
        Assert.Equal((0L, 1L), (cost.AnnouncedClaims, cost.Conflicts));
        Assert.Equal(("cancelled", null), await StepAsync(task));
    }

    [PostgresFact]
    public async Task A_claim_that_is_not_written_counts_no_step_as_started()
    {
        var (creator, _) = await EngineAsync();
        var (worker, store) = await WaitingWorkerAsync(creator, template: Counted);
        using var started = new StepsStarted("counted");
        var task = await CreateAsync(creator, Counted);
        await UntilAsync(() => store.AnnouncedTasks == 1);
        await CancelElsewhereAsync(task);
        var before = store.Statistics;

        Assert.Empty(await ClaimAsync(worker, "w", TimeSpan.Zero));

        Assert.Equal(1L, store.Statistics.Since(before).Conflicts); // the claim was made on the copy, and not written
        Assert.Equal(0L, started.Total);
    }

    [PostgresFact]
    public async Task Announced_tasks_are_claimed_highest_priority_first()
    {
        var (creator, _) = await EngineAsync();
        var (worker, store) = await WaitingWorkerAsync(creator);
        var low = await CreateAsync(creator, priority: 1);
        await Task.Delay(5); // past the creator's announcement window: each create carries its task
        var high = await CreateAsync(creator, priority: 5);
        await UntilAsync(() => store.AnnouncedTasks == 2);
        var before = store.Statistics;

        var claim = Assert.Single(await ClaimAsync(worker, "w", TimeSpan.Zero));

        Assert.Equal(high, claim.TaskUuid);
        Assert.Equal(1L, store.Statistics.Since(before).AnnouncedClaims);
        Assert.Equal(("pending", null), await StepAsync(low));
    }

    [PostgresFact]
    public async Task Of_two_announced_tasks_the_one_unchanged_is_claimed_when_the_other_moved_on()
    {
        var (creator, _) = await EngineAsync();
        var (worker, store) = await WaitingWorkerAsync(creator);
        var moved = await CreateAsync(creator, One);
        await Task.Delay(5);
        var unchanged = await CreateAsync(creator, One);
        await UntilAsync(() => store.AnnouncedTasks == 2);
        await CancelElsewhereAsync(moved);
        var before = store.Statistics;

        var claims = await worker.ClaimWorkAsync(new WorkClaimOptions(Handlers, 2, Lease, "w", null, TimeSpan.Zero));

        Assert.Equal(unchanged, Assert.Single(claims).TaskUuid);
        var cost = store.Statistics.Since(before);
        Assert.Equal((1L, 1L, 1L), (cost.AnnouncedClaims, cost.Conflicts, cost.RoundTrips)); // one statement wrote one and refused the other
        Assert.Equal(("cancelled", null), await StepAsync(moved));
    }

    [PostgresFact]
    public async Task A_task_too_big_to_announce_is_created_and_found_as_before()
    {
        var (creator, _) = await EngineAsync();
        var (worker, store) = await WaitingWorkerAsync(creator, template: Broad);
        var (waiting, _) = await WaitingClaimAsync(worker, store);
        var before = store.Statistics;

        var created = await creator.CreateTaskAsync(new TaskRequest { Namespace = "pg", Name = "broad" }); // 230 step uuids: past 8,000 bytes

        var claim = Assert.Single(await waiting);
        Assert.Equal(created.Task.TaskUuid, claim.TaskUuid);
        Assert.Equal(0L, store.Statistics.Since(before).AnnouncedClaims);
    }

    [PostgresFact]
    public async Task A_task_claimed_from_its_announcement_comes_with_its_context_and_request_fields()
    {
        var (creator, _) = await EngineAsync();
        var (worker, store) = await WaitingWorkerAsync(creator);
        var (waiting, _) = await WaitingClaimAsync(worker, store);
        var before = store.Statistics;

        var created = await creator.CreateTaskAsync(Request());

        var claim = Assert.Single(await waiting);
        Assert.Equal(1L, store.Statistics.Since(before).AnnouncedClaims);
        Assert.Equal(created.Task.Header.Context.GetRawText(), claim.Context.GetRawText()); // as stored (jsonb's order), 10 kB of it
        Assert.Equal(["a", "b"], claim.Tags);
        var header = await store.ReadTaskAsync(claim.TaskUuid, t => t.Header, CancellationToken.None);
        Assert.Equal(("test", "shop", "why", "c-1", "k-1", Trace), (header.Initiator, header.SourceSystem, header.Reason, header.CorrelationId,
            header.IdempotencyKey, header.TraceParent));
    }

    [PostgresFact]
    public async Task A_claim_from_an_announcement_whose_commit_reply_was_lost_is_handed_out_with_its_context()
    {
        var (creator, _) = await EngineAsync();
        var (worker, store) = await WaitingWorkerAsync(creator);
        var (waiting, _) = await WaitingClaimAsync(worker, store);
        var before = store.Statistics;
        var lose = 1;
        store.LoseReplyAfterCommit = _ => Interlocked.Exchange(ref lose, 0) == 1;

        var created = await creator.CreateTaskAsync(Request());

        var claim = Assert.Single(await waiting);
        Assert.Equal(created.Task.TaskUuid, claim.TaskUuid);
        Assert.Equal((1L, 1L), (store.Statistics.Since(before).AnnouncedClaims, store.Statistics.Since(before).UnknownCommitsRecovered));
        Assert.Equal(created.Task.Header.Context.GetRawText(), claim.Context.GetRawText());
        Assert.Equal(["a", "b"], claim.Tags);
        Assert.Equal(("in_progress", "w"), await StepAsync(claim.TaskUuid));
        Assert.Equal(claim.ClaimToken, await TestSql.ScalarAsync<string>(Schema, "SELECT claim_token FROM tasker_workflow_steps WHERE task_uuid = $1", claim.TaskUuid));
    }

    [PostgresFact]
    public async Task An_announcement_carries_none_of_the_tasks_request_data()
    {
        var (creator, _) = await EngineAsync();
        await creator.RegisterTemplateAsync(One);
        var (listener, payloads) = await ListenAsync();
        await using var _ = listener;

        var created = await creator.CreateTaskAsync(Request());
        await HearAsync(listener, payloads, 1);

        var payload = Assert.Single(payloads);
        Assert.Equal(created.Task.TaskUuid, Work.Announcement.Read(payload)?.TaskUuid);
        foreach (var secret in new[] { "secret-value", "\"a\"", "test", "shop", "why", "c-1", "k-1", "0af7651916cd43dd8448eb211c80319c" })
            Assert.DoesNotContain(secret, payload, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task An_announcement_describes_the_task_as_a_load_returns_it_but_for_its_request_data()
    {
        var (creator, _) = await EngineAsync();
        await creator.RegisterTemplateAsync(Pair);
        var (listener, payloads) = await ListenAsync();
        await using var _ = listener;

        var created = await creator.CreateTaskAsync(new TaskRequest
        {
            Namespace = "pg", Name = "pair", Priority = 3, RequestedAt = DateTimeOffset.UtcNow.AddSeconds(-1),
        });
        await HearAsync(listener, payloads, 1);

        var row = Work.Announcement.Read(Assert.Single(payloads));
        Assert.NotNull(row);
        var reader = await StoreAsync(); // another process: loads the task from the database
        var loaded = await reader.ReadTaskAsync(created.Task.TaskUuid, t => t, CancellationToken.None);
        var shapes = new Tasks.TaskShapeCache(8, new StoreCounters());
        shapes.Remember(row.DefinitionKey, loaded);
        Assert.True(shapes.TryGet(row.DefinitionKey, out var shape));
        var announced = row.Build(shape);
        Assert.Equal((0L, await TestSql.ScalarAsync<int>(Schema, "SELECT transition_count FROM tasker_tasks WHERE task_uuid = $1", created.Task.TaskUuid)),
            (row.RowVersion, row.TransitionCount));
        Assert.Equal(WithoutRequest(loaded), WithoutRequest(announced));
        Assert.Equal(string.Join(" // ", loaded.Steps.Select(Step)), string.Join(" // ", announced.Steps.Select(Step)));
        Assert.Null(Work.Announcement.Read(""));
        Assert.Null(Work.Announcement.Read("{\"r\": 1}"));
    }

    [PostgresFact]
    public async Task A_task_created_with_a_bypassed_step_is_announced_without_it_and_found()
    {
        var (creator, _) = await EngineAsync();
        await creator.RegisterTemplateAsync(Skippy);
        var (listener, payloads) = await ListenAsync();
        await using var _ = listener;

        await creator.CreateTaskAsync(new TaskRequest { Namespace = "pg", Name = "skippy", BypassSteps = ["first"] });
        await HearAsync(listener, payloads, 1);

        Assert.Equal("", Assert.Single(payloads)); // the announcement says only "pending steps, as created"
    }

    [PostgresTheory]
    [InlineData("a step uuid")]
    [InlineData("the transition count")]
    [InlineData("the creation time")]
    [InlineData("the template version")]
    [InlineData("the definition key")]
    public async Task An_announcement_that_differs_from_the_task_in_the_database_is_not_claimed_from(string forged)
    {
        var (creator, _) = await EngineAsync(configure: Silent); // only the test's NOTIFY carries a task
        var (worker, store) = await WaitingWorkerAsync(creator);
        // Another template whose one step the worker also runs, with other retries: another definition key, and a shape
        // of as many steps in the worker's cache, which a forged key could make it run the task's step with.
        var twin = await WarmAsync(creator, worker, Twin);
        var task = await CreateAsync(creator, One);
        var genuine = await AnnouncementOfAsync(task);
        var payload = System.Text.Json.Nodes.JsonNode.Parse(genuine)!.AsObject();
        switch (forged)
        {
            case "the definition key":
                payload["dk"] = await TestSql.ScalarAsync<string>(Schema, "SELECT definition_key FROM tasker_tasks WHERE task_uuid = $1", twin);
                break;
            case "a step uuid": payload["steps"] = new System.Text.Json.Nodes.JsonArray(Guid.NewGuid().ToString()); break;
            case "the transition count": payload["tc"] = payload["tc"]!.GetValue<int>() + 1; break;
            case "the creation time": payload["ca"] = payload["ca"]!.GetValue<long>() - 10; break;
            case "the template version": payload["v"] = "1.0.1"; break;
        }
        await TestSql.ExecuteAsync(Schema, "SELECT pg_notify($1, $2)", Work.WorkChannel.For(Schema), payload.ToJsonString());
        await UntilAsync(() => store.AnnouncedTasks == 1);
        var before = store.Statistics;

        var claim = Assert.Single(await ClaimAsync(worker, "w", TimeSpan.Zero)); // found, and claimed as it is

        var cost = store.Statistics.Since(before);
        Assert.Equal((0L, 1L), (cost.AnnouncedClaims, cost.Conflicts)); // the claim on the forged copy was not written
        Assert.Equal(task, claim.TaskUuid);
        Assert.Equal(await TestSql.ScalarAsync<Guid>(Schema, "SELECT step_uuid FROM tasker_workflow_steps WHERE task_uuid = $1", task), claim.StepUuid);
        Assert.Equal(1, await TestSql.ScalarAsync<int>(Schema,
            "SELECT count(*)::int FROM tasker_workflow_step_transitions WHERE task_uuid = $1 AND to_state = 'in_progress'", task));
    }

    [PostgresFact]
    public async Task An_announcement_with_the_steps_of_a_task_in_another_order_is_not_claimed_from()
    {
        var (creator, _) = await EngineAsync(configure: Silent);
        var (worker, store) = await WaitingWorkerAsync(creator, template: Pair);
        var task = await CreateAsync(creator, Pair);
        var payload = System.Text.Json.Nodes.JsonNode.Parse(await AnnouncementOfAsync(task))!.AsObject();
        var steps = payload["steps"]!.AsArray().Select(n => n!.GetValue<string>()).Reverse().ToArray();
        payload["steps"] = new System.Text.Json.Nodes.JsonArray([.. steps.Select(u => (System.Text.Json.Nodes.JsonNode?)u)]);
        await TestSql.ExecuteAsync(Schema, "SELECT pg_notify($1, $2)", Work.WorkChannel.For(Schema), payload.ToJsonString());
        await UntilAsync(() => store.AnnouncedTasks == 1);
        var before = store.Statistics;

        var claim = Assert.Single(await ClaimAsync(worker, "w", TimeSpan.Zero));

        Assert.Equal((0L, 1L), (store.Statistics.Since(before).AnnouncedClaims, store.Statistics.Since(before).Conflicts));
        Assert.Equal(await TestSql.ScalarAsync<Guid>(Schema,
            "SELECT step_uuid FROM tasker_workflow_steps WHERE task_uuid = $1 AND name = 'only'", task), claim.StepUuid);
    }

    [PostgresTheory]
    [InlineData("a NUL in its name")]
    [InlineData("a creation time past the year 9000")]
    [InlineData("a negative timeout")]
    public async Task An_announcement_no_created_task_could_have_is_dropped_and_the_task_found(string forged)
    {
        var (creator, _) = await EngineAsync(configure: Silent);
        var (worker, store) = await WaitingWorkerAsync(creator);
        var task = await CreateAsync(creator, One);
        var payload = System.Text.Json.Nodes.JsonNode.Parse(await AnnouncementOfAsync(task))!.AsObject();
        switch (forged)
        {
            case "a NUL in its name": payload["n"] = "one\u0000"; break;
            case "a creation time past the year 9000": payload["ca"] = DateTime.MaxValue.Ticks - 1; break;
            case "a negative timeout": payload["to"] = -1; break;
        }
        await TestSql.ExecuteAsync(Schema, "SELECT pg_notify($1, $2)", Work.WorkChannel.For(Schema), payload.ToJsonString());
        await UntilAsync(() => store.AnnouncedTasks == 1);
        var before = store.Statistics;

        var claim = Assert.Single(await ClaimAsync(worker, "w", TimeSpan.Zero)); // no error: found, and claimed as it is

        Assert.Equal(task, claim.TaskUuid);
        Assert.Equal((0L, 0L), (store.Statistics.Since(before).AnnouncedClaims, store.Statistics.Since(before).Conflicts));
    }

    [PostgresFact]
    public async Task An_announced_claim_of_a_store_with_durable_claims_waits_for_the_flush()
    {
        var (creator, _) = await EngineAsync();
        var (worker, store) = await WaitingWorkerAsync(creator, configure: o => new PostgresStoreOptions
        {
            ConnectionString = o.ConnectionString, Schema = o.Schema, ApplicationName = o.ApplicationName, DurableClaims = true,
        });
        var (waiting, _) = await WaitingClaimAsync(worker, store);
        var before = store.Statistics;

        await CreateAsync(creator, One);

        Assert.Single(await waiting);
        var cost = store.Statistics.Since(before);
        Assert.Equal((1L, 0L), (cost.AnnouncedClaims, cost.UnflushedClaimWrites));
    }

    [PostgresFact]
    public async Task An_announcement_sent_by_anyone_as_the_creator_would_is_claimed_from()
    {
        // The control of the forgeries above: the same payload, unchanged, is good for a one-round-trip claim.
        var (creator, _) = await EngineAsync(configure: Silent);
        var (worker, store) = await WaitingWorkerAsync(creator);
        var task = await CreateAsync(creator, One);
        await TestSql.ExecuteAsync(Schema, "SELECT pg_notify($1, $2)", Work.WorkChannel.For(Schema), await AnnouncementOfAsync(task));
        await UntilAsync(() => store.AnnouncedTasks == 1);
        var before = store.Statistics;

        var claim = Assert.Single(await ClaimAsync(worker, "w", TimeSpan.Zero));

        Assert.Equal((task, 1L, 0L), (claim.TaskUuid, store.Statistics.Since(before).AnnouncedClaims, store.Statistics.Since(before).Conflicts));
    }

    [PostgresFact]
    public async Task A_store_told_not_to_announce_tasks_sends_no_task_in_its_notifications()
    {
        var (creator, _) = await EngineAsync(configure: Silent);
        await creator.RegisterTemplateAsync(One);
        var (listener, payloads) = await ListenAsync();
        await using var _ = listener;

        await CreateAsync(creator, One);
        await HearAsync(listener, payloads, 1);

        Assert.Equal("", Assert.Single(payloads)); // still woken, told nothing
    }

    [PostgresFact]
    public async Task A_worker_that_does_not_announce_tasks_trusts_no_notification_and_finds_the_task()
    {
        var (creator, _) = await EngineAsync();
        var (worker, store) = await WaitingWorkerAsync(creator, announcing: false);
        var waiting = ClaimAsync(worker, "w", TimeSpan.FromSeconds(30));

        var task = await CreateAsync(creator, One);

        Assert.Equal(task, Assert.Single(await waiting).TaskUuid);
        Assert.Equal(0L, store.Statistics.AnnouncedClaims);
    }

    [PostgresFact]
    public async Task A_notification_that_carries_no_task_wakes_the_worker_and_nothing_else()
    {
        var (creator, _) = await EngineAsync();
        var (worker, store) = await WaitingWorkerAsync(creator);
        var (waiting, finds) = await WaitingClaimAsync(worker, store);

        foreach (var payload in new[] { "not json", "{\"r\": {\"u\": 1}}", "{\"r\": null, \"c\": {}}", "[]" })
            await TestSql.ExecuteAsync(Schema, "SELECT pg_notify($1, $2)", Work.WorkChannel.For(Schema), payload);
        await UntilAsync(() => finds() > 1); // woken: the claim dropped them and looked
        var task = await CreateAsync(creator, One);

        Assert.Equal(task, Assert.Single(await waiting).TaskUuid);
    }

    [PostgresFact]
    public async Task Tasks_created_a_few_milliseconds_apart_are_each_announced_with_their_task()
    {
        // A steady stream of enqueues to idle workers: neither waits for the other's coalescing window (a late
        // announcement carries no task, and the worker waits for it).
        var (creator, _) = await EngineAsync();
        await creator.RegisterTemplateAsync(One);
        var (listener, payloads) = await ListenAsync();
        await using var _ = listener;

        var warm = await CreateAsync(creator, One); // the creator's first create looks its template up
        await Task.Delay(50);
        var first = await CreateAsync(creator, One);
        await Task.Delay(10); // past the 2 ms create window, well inside the 20 ms one
        var second = await CreateAsync(creator, One);
        await HearAsync(listener, payloads, 3);

        Assert.Equal([warm, first, second], payloads.Select(p => Work.Announcement.Read(p)?.TaskUuid));
    }

    private const string Trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    /// <summary>A task of <see cref="One"/> with every request field set, and a 10 kB context.</summary>
    private static TaskRequest Request() => new()
    {
        Namespace = "pg", Name = "one", Initiator = "test", CorrelationId = "c-1", Tags = ["a", "b"], SourceSystem = "shop",
        Reason = "why", IdempotencyKey = "k-1", TraceParent = Trace,
        Context = JsonValues.Parse($"{{\"b\": 1, \"a\": [1.50, \"secret-value\"], \"blob\": \"{new string('x', 10_000)}\"}}", "context"),
    };

    /// <summary>What an announcing creator would have sent for this task, built from its rows.</summary>
    private async Task<string> AnnouncementOfAsync(Guid task)
    {
        var reader = await StoreAsync();
        var loaded = await reader.ReadTaskAsync(task, t => t, CancellationToken.None);
        var key = await TestSql.ScalarAsync<string>(Schema, "SELECT definition_key FROM tasker_tasks WHERE task_uuid = $1", task);
        var transitions = await TestSql.ScalarAsync<int>(Schema, "SELECT transition_count FROM tasker_tasks WHERE task_uuid = $1", task);
        return Work.Announcement.Write(loaded, key, transitions) ?? throw new InvalidOperationException("not announceable");
    }

    private async Task<(NpgsqlConnection Listener, List<string> Payloads)> ListenAsync()
    {
        var listener = await TestSql.OpenAsync(Schema);
        var payloads = new List<string>();
        listener.Notification += (_, e) => payloads.Add(e.Payload);
        await using (var listen = new NpgsqlCommand(Work.WorkChannel.Listen(Work.WorkChannel.For(Schema)), listener))
            await listen.ExecuteNonQueryAsync();
        return (listener, payloads);
    }

    private static async Task HearAsync(NpgsqlConnection listener, List<string> payloads, int count)
    {
        var deadline = Stopwatch.StartNew();
        while (payloads.Count < count && deadline.Elapsed < TimeSpan.FromSeconds(10))
            await listener.WaitAsync(TimeSpan.FromMilliseconds(200));
    }

    /// <summary>The header columns an announcement carries: all but the request data (context, tags, initiator and the rest).</summary>
    private static string WithoutRequest(WorkflowTask t)
    {
        var h = t.Header;
        return $"{h.Uuid}|{h.Namespace}|{h.Name}|{h.Version}|{h.State}|{h.Priority}|{h.FailFast}|"
            + $"{h.CreatedAt.UtcTicks}|{h.UpdatedAt.UtcTicks}|{h.FinishedAt?.UtcTicks}|{h.RequestedAt?.UtcTicks}|{h.TimeoutSeconds}";
    }

    private static string Step(WorkflowStep s) =>
        $"{s.Index} {s.Uuid} {s.Name} {s.Handler} {s.State} {s.Attempts} {s.Metadata?.GetRawText()} {s.FinishedAt?.UtcTicks} {s.Result?.GetRawText()} {s.ClaimToken}";

    /// <summary>A worker in a process of its own that has claimed once (so it knows the template's shape) and is idle.</summary>
    private async Task<(TaskerEngine Worker, PostgresStore Store)> WaitingWorkerAsync(TaskerEngine creator, bool announcing = true,
        string? template = null, Func<PostgresStoreOptions, PostgresStoreOptions>? configure = null)
    {
        var store = await StoreAsync(configure ?? (announcing ? null : Silent));
        // Polling every minute: within a test only an announcement wakes this worker.
        var worker = new TaskerEngine(store, new TaskerOptions { WorkPollInterval = TimeSpan.FromSeconds(60), Jitter = 0 });
        await WarmAsync(creator, worker, template ?? One);
        return (worker, store);
    }

    /// <summary>The worker runs a task of the template (so it knows its shape) and is idle again; the task's uuid.</summary>
    private static async Task<Guid> WarmAsync(TaskerEngine creator, TaskerEngine worker, string template)
    {
        await creator.RegisterTemplateAsync(template);
        var warm = await CreateAsync(creator, template);
        var claim = Assert.Single(await ClaimAsync(worker, "warm", TimeSpan.FromSeconds(10)));
        Assert.Equal(warm, claim.TaskUuid);
        await worker.CompleteStepAsync(claim.TaskUuid, claim.StepUuid, claim.ClaimToken, JsonValues.EmptyObject);
        Assert.Empty(await ClaimAsync(worker, "warm", TimeSpan.Zero)); // nothing left: the process is idle
        return warm;
    }

    private static async Task<Guid> CreateAsync(TaskerEngine creator, int priority) =>
        (await creator.CreateTaskAsync(new TaskRequest { Namespace = "pg", Name = "one", Priority = priority })).Task.TaskUuid;

    private static Task<IReadOnlyList<StepClaim>> ClaimAsync(TaskerEngine worker, string id, TimeSpan wait) =>
        worker.ClaimWorkAsync(new WorkClaimOptions(Handlers, 1, Lease, id, null, wait)).AsTask();

    /// <summary>Another process cancelled the task since its announcement: its step is done with, and its row moved on.</summary>
    private async Task CancelElsewhereAsync(Guid task)
    {
        await TestSql.ExecuteAsync(Schema,
            "UPDATE tasker_tasks SET state = 'cancelled', row_version = row_version + 1, finished_at = now() WHERE task_uuid = $1", task);
        await TestSql.ExecuteAsync(Schema, "UPDATE tasker_workflow_steps SET state = 'cancelled' WHERE task_uuid = $1", task);
    }

    private async Task<(string State, string? ClaimedBy)> StepAsync(Guid task)
    {
        await using var connection = await TestSql.OpenAsync(Schema);
        await using var command = new NpgsqlCommand("SELECT state, claimed_by FROM tasker_workflow_steps WHERE task_uuid = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = task });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    /// <summary>
    /// Starts a claim that waits for work and returns once its find came back empty and the store went quiet (the worker
    /// listens): the claim, and how many finds the store has run so far.
    /// </summary>
    private static async Task<(Task<IReadOnlyList<StepClaim>> Claims, Func<int> Finds)> WaitingClaimAsync(TaskerEngine worker,
        PostgresStore store, TimeSpan? wait = null)
    {
        var finds = 0;
        store.AfterWorkFind = () => Interlocked.Increment(ref finds);
        var claims = ClaimAsync(worker, "w", wait ?? TimeSpan.FromSeconds(30));
        await UntilQuietAsync(store, () => Volatile.Read(ref finds) > 0);
        return (claims, () => Volatile.Read(ref finds));
    }

    /// <summary>Until the condition holds and the store has sent nothing for 200 ms (a find's COMMIT follows it).</summary>
    private static async Task UntilQuietAsync(PostgresStore store, Func<bool> condition)
    {
        await UntilAsync(condition);
        var last = store.Statistics.RoundTrips;
        for (var i = 0; i < 100; i++)
        {
            await Task.Delay(200);
            var now = store.Statistics.RoundTrips;
            if (now == last) return;
            last = now;
        }
    }

    private static async Task UntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 400 && !condition(); i++) await Task.Delay(25);
        Assert.True(condition(), "timed out");
    }

    /// <summary>Sums <c>tasker.steps.started</c> for one namespace while it lives.</summary>
    private sealed class StepsStarted : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private long _total;

        public StepsStarted(string ns)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Tasker" && instrument.Name == "tasker.steps.started") listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                    if (tag.Key == "tasker.namespace" && (string?)tag.Value == ns) Interlocked.Add(ref _total, value);
            });
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public void Dispose() => _listener.Dispose();
    }
}
