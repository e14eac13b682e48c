/*
 * Every export of libtasker: a whole workflow through the happy path, then bad input of every kind. Each bad call
 * must return the documented error code, leave no output behind, and leave the process running.
 * Usage: test_api [memory|postgres]
 */
#include "support.h"

static const char *LINEAR =
    "name: linear\nnamespace_name: abi\nversion: 1.0.0\nsteps:\n"
    "  - name: a\n    handler: { callable: A }\n"
    "  - name: b\n    handler: { callable: B }\n    dependencies: [a]\n"
    "    retry: { max_attempts: 2, backoff_base_seconds: 5 }\n";

static char task_uuid[64];

static void create_task(tasker_engine_t *engine) {
    cJSON *created = CALL_OK(tasker_task_create, engine,
                             "{\"namespace\": \"abi\", \"name\": \"linear\", \"context\": {\"n\": 1}, \"tags\": [\"t\"]}");
    CHECK(created && cJSON_IsTrue(cJSON_GetObjectItem(created, "created")));
    snprintf(task_uuid, sizeof task_uuid, "%s", str(cJSON_GetObjectItem(created, "task"), "task_uuid"));
    cJSON_Delete(created);
}

/* Claims exactly one step and copies its uuid and token. */
static void claim_one(tasker_engine_t *engine, const char *expected_step, char *step_uuid, char *token) {
    char request[128];
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"worker_id\": \"abi-test\"}", task_uuid);
    cJSON *claimed = CALL_OK(tasker_steps_claim, engine, request);
    cJSON *claims = cJSON_GetObjectItem(claimed, "claims");
    CHECK(cJSON_GetArraySize(claims) == 1);
    cJSON *claim = cJSON_GetArrayItem(claims, 0);
    CHECK(strcmp(str(cJSON_GetObjectItem(claim, "step"), "name"), expected_step) == 0);
    snprintf(step_uuid, 64, "%s", str(cJSON_GetObjectItem(claim, "step"), "step_uuid"));
    snprintf(token, 64, "%s", str(claim, "claim_token"));
    cJSON_Delete(claimed);
}

/* Reports a step; returns the outcome of the answer ({"claims", "outcome"}), or NULL on an error. */
static cJSON *report(json_call fn, tasker_engine_t *engine, const char *step_uuid, const char *token, const char *tail) {
    char request[1024];
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"step_uuid\": \"%s\", \"claim_token\": \"%s\", %s}",
             task_uuid, step_uuid, token, tail);
    cJSON *answer = call_ok(fn, engine, request, "report");
    if (answer == NULL) return NULL;
    CHECK(cJSON_IsArray(cJSON_GetObjectItem(answer, "claims")));
    cJSON *outcome = cJSON_DetachItemFromObject(answer, "outcome");
    cJSON_Delete(answer);
    return outcome;
}

static void test_versions(void) {
    CHECK(strcmp(tasker_version(), TASKER_VERSION) == 0);
    CHECK(tasker_abi_version() == TASKER_ABI_VERSION);
}

#ifdef __linux__
/* The file name of a /proc/self/maps line's path, or "" for anonymous memory. */
static const char *mapped_file(const char *line) {
    const char *path = strchr(line, '/');
    if (path == NULL) return "";
    return strrchr(path, '/') + 1;
}
#endif

/*
 * Uuids and claim tokens come from the kernel, not OpenSSL: a host that runs tasks on the memory store and never asked
 * for TLS does not get libcrypto and libssl mapped into it by libtasker (2-3.7 MB of RSS; docs/performance.md,
 * "Footprint"). main() disables OpenTelemetry first, whose OTLP exporter may use TLS when the environment asks for it.
 */
static void test_no_tls_library_is_loaded_for_ids(void) {
#ifdef __linux__
    if (strcmp(test_store, "memory") != 0) return; /* Npgsql's connections may load OpenSSL */
    tasker_engine_t *engine = open_engine("{}");
    cJSON_Delete(CALL_OK(tasker_template_register, engine, LINEAR));
    create_task(engine);
    char step_uuid[64], token[64];
    claim_one(engine, "a", step_uuid, token); /* a uuid per task and step, a token per claim */
    tasker_engine_free(engine);

    FILE *maps = fopen("/proc/self/maps", "r"); /* a /proc file has no size: read it line by line */
    CHECK(maps != NULL);
    if (maps == NULL) return;
    char line[4096];
    int library = 0, tls = 0;
    while (fgets(line, sizeof line, maps)) {
        const char *name = mapped_file(line);
        library += strncmp(name, "libtasker", 9) == 0;
        tls += strncmp(name, "libcrypto.so", 12) == 0 || strncmp(name, "libssl.so", 9) == 0;
    }
    fclose(maps);
    CHECK(library > 0); /* the check reads the right thing */
    CHECK(tls == 0);
#endif
}

static void test_whole_workflow(void) {
    tasker_engine_t *engine = open_engine("{\"clock\": \"manual\", \"backoff\": {\"jitter\": 0}}");
    cJSON *template = CALL_OK(tasker_template_register, engine, LINEAR);
    CHECK(template && strcmp(str(template, "version"), "1.0.0") == 0);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(template, "steps")) == 2);
    cJSON_Delete(template);
    create_task(engine);

    tasker_subscription_t *subscription = NULL;
    CHECK(tasker_subscription_open(engine, (const uint8_t *)"step.*", 6, 0, &subscription) == NULL);

    char step[64], token[64];
    claim_one(engine, "a", step, token);

    /* heartbeat extends the lease */
    char hb[256];
    snprintf(hb, sizeof hb, "{\"task_uuid\": \"%s\", \"step_uuid\": \"%s\", \"claim_token\": \"%s\", \"lease_seconds\": 60}",
             task_uuid, step, token);
    cJSON *lease = CALL_OK(tasker_step_heartbeat, engine, hb);
    CHECK(lease && strlen(str(lease, "lease_expires_at")) > 0);
    cJSON_Delete(lease);

    cJSON *outcome = report(tasker_step_complete, engine, step, token, "\"result\": {\"a\": \"ünïcødé ✓\"}");
    CHECK(outcome && strcmp(str(outcome, "action"), "execute") == 0);
    cJSON_Delete(outcome);

    /* a duplicate completion is a stale claim and changes nothing */
    char request[512];
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"step_uuid\": \"%s\", \"claim_token\": \"%s\", \"result\": 2}",
             task_uuid, step, token);
    CALL_FAILS(tasker_step_complete, engine, request, TASKER_ERROR_STALE_CLAIM);

    /* b fails once (retryable), waits for its 5 s backoff, then completes */
    claim_one(engine, "b", step, token);
    outcome = report(tasker_step_fail, engine, step, token,
                     "\"error\": {\"message\": \"flaky\", \"error_type\": \"IOError\", \"backtrace\": [\"x.c:1\"]}");
    CHECK(outcome && strcmp(str(outcome, "action"), "reenqueue") == 0);
    CHECK(outcome && cJSON_GetObjectItem(outcome, "delay_seconds")->valuedouble == 5.0);
    cJSON_Delete(outcome);
    CHECK(tasker_engine_advance_clock(engine, 5000) == NULL);
    EXPECT_ERROR(tasker_engine_advance_clock(engine, -1), TASKER_ERROR_INVALID_ARGUMENT); /* time never goes back */
    EXPECT_ERROR(tasker_engine_advance_clock(engine, INT64_MAX), TASKER_ERROR_INVALID_ARGUMENT); /* nor overflows */

    cJSON *stale = CALL_OK(tasker_stale_work_list, engine, "{\"limit\": 10}");
    CHECK(stale && cJSON_GetArraySize(cJSON_GetObjectItem(stale, "retry_due")) == 1);
    cJSON_Delete(stale);

    claim_one(engine, "b", step, token);
    outcome = report(tasker_step_complete, engine, step, token, "\"result\": null, \"metadata\": {\"ms\": 3}");
    CHECK(outcome && strcmp(str(outcome, "action"), "complete") == 0);
    CHECK(outcome && cJSON_IsTrue(cJSON_GetObjectItem(outcome, "finalized")));
    cJSON_Delete(outcome);

    outcome = CALL_OK(tasker_task_evaluate, engine, task_uuid);
    CHECK(outcome && cJSON_IsFalse(cJSON_GetObjectItem(outcome, "finalized")));
    cJSON_Delete(outcome);

    cJSON *task = CALL_OK(tasker_task_get, engine, task_uuid);
    CHECK(task && strcmp(str(task, "state"), "complete") == 0);
    cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(task, "steps"), 0);
    CHECK(strcmp(str(cJSON_GetObjectItem(a, "result"), "a"), "ünïcødé ✓") == 0);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(task, "transitions")) >= 8);
    cJSON_Delete(task);

    cJSON *list = CALL_OK(tasker_task_list, engine, "{\"state\": \"complete\", \"namespace\": \"abi\"}");
    CHECK(list && cJSON_GetArraySize(cJSON_GetObjectItem(list, "tasks")) == 1);
    cJSON_Delete(list);

    cJSON *health = NULL;
    tasker_bytes_t out = {NULL, 0};
    CHECK(tasker_engine_health(engine, &out) == NULL);
    health = cJSON_ParseWithLength((const char *)out.data, out.len);
    CHECK(health && cJSON_IsTrue(cJSON_GetObjectItem(health, "healthy")));
    CHECK(health && cJSON_GetObjectItem(cJSON_GetObjectItem(health, "tasks"), "complete")->valueint == 1);
    cJSON_Delete(health);
    tasker_bytes_free(&out);
    tasker_bytes_free(&out); /* a second free is harmless */

    /* events: a started, a completed, b started, b retry_scheduled, b started, b completed */
    CHECK(tasker_subscription_pull(subscription, 100, &out) == NULL);
    cJSON *batch = cJSON_ParseWithLength((const char *)out.data, out.len);
    cJSON *events = cJSON_GetObjectItem(batch, "events");
    CHECK(cJSON_GetArraySize(events) == 6);
    CHECK(strcmp(str(cJSON_GetArrayItem(events, 3), "name"), "step.retry_scheduled") == 0);
    CHECK(strcmp(str(cJSON_GetObjectItem(cJSON_GetArrayItem(events, 3), "error"), "message"), "flaky") == 0);
    CHECK(cJSON_GetObjectItem(batch, "dropped")->valueint == 0);
    cJSON_Delete(batch);
    tasker_bytes_free(&out);

    tasker_subscription_free(subscription);
    tasker_subscription_free(subscription); /* a second free is ignored */
    EXPECT_ERROR(tasker_subscription_pull(subscription, 1, &out), TASKER_ERROR_INVALID_HANDLE);
    CHECK(tasker_engine_close(engine) == NULL);
}

static void test_operator_actions(void) {
    tasker_engine_t *engine = open_engine("{}");
    cJSON_Delete(CALL_OK(tasker_template_register, engine, LINEAR));

    create_task(engine);
    char step[64], token[64], request[256];
    claim_one(engine, "a", step, token);
    cJSON *outcome = report(tasker_step_fail, engine, step, token, "\"error\": {\"message\": \"no\", \"permanent\": true}");
    CHECK(outcome && strcmp(str(outcome, "action"), "error") == 0);
    cJSON_Delete(outcome);

    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"actor\": \"ops\", \"reason\": \"fixed\"}", task_uuid);
    outcome = CALL_OK(tasker_task_retry, engine, request);
    CHECK(outcome && strcmp(str(outcome, "task_state"), "pending") == 0);
    cJSON_Delete(outcome);

    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"step_name\": \"a\", \"result\": {\"by\": \"hand\"}}", task_uuid);
    outcome = CALL_OK(tasker_step_resolve, engine, request);
    CHECK(outcome && strcmp(str(outcome, "action"), "execute") == 0);
    cJSON_Delete(outcome);

    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"actor\": \"ops\"}", task_uuid);
    outcome = CALL_OK(tasker_task_cancel, engine, request);
    CHECK(outcome && strcmp(str(outcome, "action"), "cancelled") == 0);
    cJSON_Delete(outcome);
    outcome = CALL_OK(tasker_task_cancel, engine, request); /* again: a no-op */
    CHECK(outcome && strcmp(str(outcome, "task_state"), "cancelled") == 0);
    cJSON_Delete(outcome);
    CALL_FAILS(tasker_task_retry, engine, request, TASKER_ERROR_INVALID_STATE);

    CHECK(tasker_engine_migrate(engine) == NULL); /* memory: no-op */
    EXPECT_ERROR(tasker_engine_advance_clock(engine, 10), TASKER_ERROR_INVALID_STATE); /* not a manual clock */
    tasker_engine_free(engine);
}

static void test_bad_handles(void) {
    tasker_bytes_t out = {NULL, 0};
    tasker_engine_free(NULL);
    tasker_subscription_free(NULL);
    CHECK(tasker_engine_close(NULL) == NULL);
    tasker_error_free(NULL);
    tasker_bytes_free(NULL);
    EXPECT_ERROR(tasker_task_get(NULL, (const uint8_t *)"x", 1, &out), TASKER_ERROR_INVALID_HANDLE);
    EXPECT_ERROR(tasker_engine_migrate(NULL), TASKER_ERROR_INVALID_HANDLE);
    EXPECT_ERROR(tasker_subscription_pull(NULL, 1, &out), TASKER_ERROR_INVALID_HANDLE);
    EXPECT_ERROR(tasker_engine_open(NULL, 0, NULL), TASKER_ERROR_INVALID_ARGUMENT);
    CHECK(tasker_error_code(NULL) == TASKER_ERROR_INVALID_HANDLE);
    CHECK(strcmp(tasker_error_message(NULL), "") == 0);
    CHECK(strcmp(tasker_error_details(NULL), "{}") == 0);

    tasker_engine_t *engine = open_engine("{}");
    CHECK(tasker_engine_close(engine) == NULL);
    EXPECT_ERROR(tasker_engine_close(engine), TASKER_ERROR_INVALID_HANDLE); /* closed twice: reported */
    tasker_engine_free(engine); /* freed after close: ignored */
    EXPECT_ERROR(tasker_task_list(engine, NULL, 0, &out), TASKER_ERROR_INVALID_HANDLE); /* use after free */
    EXPECT_ERROR(tasker_task_get((tasker_engine_t *)(uintptr_t)0xdeadbeef, NULL, 0, &out), TASKER_ERROR_INVALID_HANDLE);

    /* errors themselves: details are JSON; a double free is harmless */
    tasker_error_t *err = tasker_engine_migrate(NULL);
    CHECK(tasker_error_details(err)[0] == '{');
    tasker_error_free(err);
    tasker_error_free(err);
    CHECK(tasker_error_code(err) == TASKER_ERROR_INVALID_HANDLE);
}

/* A handle of one kind passed where another is expected is INVALID_HANDLE, never the live object of that slot. */
static void test_wrong_kind_of_handle(void) {
    tasker_engine_t *engine = open_engine("{}");
    tasker_subscription_t *subscription = NULL;
    CHECK(tasker_subscription_open(engine, (const uint8_t *)"*", 1, 0, &subscription) == NULL);
    tasker_error_t *err = tasker_engine_migrate(NULL);
    tasker_bytes_t out = {NULL, 0};

    EXPECT_ERROR(tasker_task_list((tasker_engine_t *)(void *)err, NULL, 0, &out), TASKER_ERROR_INVALID_HANDLE);
    EXPECT_ERROR(tasker_task_list((tasker_engine_t *)(void *)subscription, NULL, 0, &out), TASKER_ERROR_INVALID_HANDLE);
    EXPECT_ERROR(tasker_engine_close((tasker_engine_t *)(void *)subscription), TASKER_ERROR_INVALID_HANDLE);
    tasker_engine_free((tasker_engine_t *)(void *)subscription); /* ignored: not an engine handle */
    EXPECT_ERROR(tasker_subscription_pull((tasker_subscription_t *)(void *)engine, 1, &out), TASKER_ERROR_INVALID_HANDLE);
    tasker_subscription_free((tasker_subscription_t *)(void *)engine); /* ignored: not a subscription handle */
    CHECK(tasker_error_code((tasker_error_t *)(void *)engine) == TASKER_ERROR_INVALID_HANDLE);
    CHECK(strcmp(tasker_error_message((tasker_error_t *)(void *)subscription), "") == 0);
    tasker_error_free((tasker_error_t *)(void *)engine); /* ignored: not an error handle */

    /* all three are still alive and usable */
    CHECK(tasker_error_code(err) == TASKER_ERROR_INVALID_HANDLE);
    tasker_error_free(err);
    cJSON_Delete(CALL_OK(tasker_task_list, engine, "{}"));
    CHECK(tasker_subscription_pull(subscription, 1, &out) == NULL);
    tasker_bytes_free(&out);
    tasker_subscription_free(subscription);
    EXPECT_ERROR(tasker_subscription_pull(subscription, 1, &out), TASKER_ERROR_INVALID_HANDLE); /* use after free */
    CHECK(out.data == NULL);
    tasker_engine_free(engine);
}

/* Every function with an output refuses a NULL output pointer, and changes nothing. */
static void test_null_outputs(void) {
    static const json_call calls[] = {
        (json_call)tasker_template_register, (json_call)tasker_task_create,    (json_call)tasker_task_get,
        (json_call)tasker_task_list,         (json_call)tasker_task_evaluate,  (json_call)tasker_task_retry,
        (json_call)tasker_task_cancel,       (json_call)tasker_stale_work_list, (json_call)tasker_steps_claim, (json_call)tasker_work_claim,
        (json_call)tasker_step_heartbeat,    (json_call)tasker_step_complete,  (json_call)tasker_step_fail,
        (json_call)tasker_step_resolve,
    };
    tasker_engine_t *engine = open_engine("{}");
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        EXPECT_ERROR(calls[i](engine, (const uint8_t *)"{}", 2, NULL), TASKER_ERROR_INVALID_ARGUMENT);
    EXPECT_ERROR(tasker_engine_health(engine, NULL), TASKER_ERROR_INVALID_ARGUMENT);
    EXPECT_ERROR(tasker_subscription_open(engine, (const uint8_t *)"*", 1, 0, NULL), TASKER_ERROR_INVALID_ARGUMENT);
    tasker_subscription_t *subscription = NULL;
    CHECK(tasker_subscription_open(engine, (const uint8_t *)"*", 1, 0, &subscription) == NULL);
    EXPECT_ERROR(tasker_subscription_pull(subscription, 1, NULL), TASKER_ERROR_INVALID_ARGUMENT);
    tasker_subscription_free(subscription);
    tasker_engine_free(engine);
}

/* Invalid UTF-8 is refused by every text or JSON input, whatever the function (an overlong '/', a lone
 * continuation byte, a surrogate, a truncated sequence). */
static void test_invalid_utf8_everywhere(void) {
    static const json_call calls[] = {
        (json_call)tasker_template_register, (json_call)tasker_task_create,    (json_call)tasker_task_get,
        (json_call)tasker_task_list,         (json_call)tasker_task_evaluate,  (json_call)tasker_task_retry,
        (json_call)tasker_task_cancel,       (json_call)tasker_stale_work_list, (json_call)tasker_steps_claim, (json_call)tasker_work_claim,
        (json_call)tasker_step_heartbeat,    (json_call)tasker_step_complete,  (json_call)tasker_step_fail,
        (json_call)tasker_step_resolve,
    };
    static const char *bad[] = {"{\"a\": \"\xc0\xaf\"}", "{\"a\": \"\x80\"}", "{\"a\": \"\xed\xa0\x80\"}", "{\"a\": \"\xe2\x82\"}"};
    tasker_engine_t *engine = open_engine("{}");
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++)
            CHECK(call_fails(calls[i], engine, bad[j], strlen(bad[j]), TASKER_ERROR_INVALID_UTF8, "utf-8"));
    tasker_engine_t *none = NULL;
    EXPECT_ERROR(tasker_engine_open((const uint8_t *)bad[0], strlen(bad[0]), &none), TASKER_ERROR_INVALID_UTF8);
    CHECK(none == NULL);
    tasker_subscription_t *subscription = NULL;
    EXPECT_ERROR(tasker_subscription_open(engine, (const uint8_t *)"step.\xff", 6, 0, &subscription), TASKER_ERROR_INVALID_UTF8);
    CHECK(subscription == NULL);
    tasker_engine_free(engine);
}

/* Expects err to be INVALID_JSON whose message contains `needle`; frees it. */
static void expect_json_error(tasker_error_t *err, const char *needle) {
    CHECK(tasker_error_code(err) == TASKER_ERROR_INVALID_JSON);
    CHECK(err && strstr(tasker_error_message(err), needle) != NULL);
    tasker_error_free(err);
}

/* A \ud800-style escape is valid JSON syntax but no UTF-8 text can hold it: it is refused on the way in, and
 * nothing is half-written (no task is created; a claimed step stays claimed and can still be completed). */
static void test_unpaired_surrogates_are_refused_and_nothing_is_written(void) {
    tasker_engine_t *engine = open_engine("{}");
    cJSON_Delete(CALL_OK(tasker_template_register, engine, LINEAR));
    tasker_bytes_t out = {NULL, 0};

    const char *bad_task = "{\"namespace\": \"abi\", \"name\": \"linear\", \"context\": {\"note\": \"\\ud800\"}}";
    expect_json_error(tasker_task_create(engine, (const uint8_t *)bad_task, strlen(bad_task), &out), "surrogate");
    CHECK(out.data == NULL);
    cJSON *tasks = CALL_OK(tasker_task_list, engine, "{}");
    CHECK(tasks && cJSON_GetArraySize(cJSON_GetObjectItem(tasks, "tasks")) == 0);
    cJSON_Delete(tasks);

    create_task(engine);
    char step[64], token[64];
    claim_one(engine, "a", step, token);
    char request[512];
    snprintf(request, sizeof request,
             "{\"task_uuid\": \"%s\", \"step_uuid\": \"%s\", \"claim_token\": \"%s\", \"result\": {\"\\udc00\": 1}}",
             task_uuid, step, token);
    expect_json_error(tasker_step_complete(engine, (const uint8_t *)request, strlen(request), &out), "surrogate");
    cJSON *outcome = report(tasker_step_complete, engine, step, token, "\"result\": \"\\ud83d\\ude00\"");
    CHECK(outcome && strcmp(str(outcome, "action"), "execute") == 0);
    cJSON_Delete(outcome);

    /* the task reads back, with the escaped pair as one character */
    cJSON *task = CALL_OK(tasker_task_get, engine, task_uuid);
    cJSON *a = task ? cJSON_GetArrayItem(cJSON_GetObjectItem(task, "steps"), 0) : NULL;
    CHECK(a && strcmp(cJSON_GetObjectItem(a, "result")->valuestring, "\xf0\x9f\x98\x80") == 0);
    cJSON_Delete(task);
    tasker_engine_free(engine);
}

/* Tracing fields: a W3C traceparent on any request, a handler run on a report. Malformed ones are refused and
 * change nothing; well-formed ones are accepted whether or not anything exports spans. */
static void test_trace_context_fields(void) {
    tasker_engine_t *engine = open_engine("{}");
    cJSON_Delete(CALL_OK(tasker_template_register, engine, LINEAR));
    CALL_FAILS(tasker_task_create, engine, "{\"namespace\": \"abi\", \"name\": \"linear\", \"traceparent\": \"00-xyz-01\"}",
               TASKER_ERROR_INVALID_ARGUMENT);
    cJSON *created = CALL_OK(tasker_task_create, engine,
                             "{\"namespace\": \"abi\", \"name\": \"linear\", "
                             "\"traceparent\": \"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\"}");
    snprintf(task_uuid, sizeof task_uuid, "%s", str(cJSON_GetObjectItem(created, "task"), "task_uuid"));
    cJSON_Delete(created);

    char step[64], token[64];
    claim_one(engine, "a", step, token);
    static const char *bad_runs[] = {
        "\"handler\": {\"started_at\": \"yesterday\", \"finished_at\": \"2026-01-01T00:00:00Z\"}",
        "\"handler\": {\"started_at\": \"2026-01-01T00:00:01Z\", \"finished_at\": \"2026-01-01T00:00:00Z\"}",
        "\"handler\": {\"started_at\": \"2026-01-01T00:00:00Z\", \"finished_at\": \"2026-01-01T00:00:01Z\", \"attributes\": {\"a\": [1]}}",
        "\"handler\": {\"started_at\": 1767225601.5, \"finished_at\": 1767225601.25}",
        "\"handler\": {\"started_at\": -1, \"finished_at\": 0}",
        "\"handler\": {\"started_at\": 1767225600, \"finished_at\": 1e300}",
        "\"handler\": 5",
        "\"traceparent\": \"01-bad\"",
    };
    for (size_t i = 0; i < sizeof bad_runs / sizeof bad_runs[0]; i++) {
        char request[512];
        snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"step_uuid\": \"%s\", \"claim_token\": \"%s\", %s}",
                 task_uuid, step, token, bad_runs[i]);
        CALL_FAILS(tasker_step_complete, engine, request, TASKER_ERROR_INVALID_ARGUMENT);
    }
    cJSON *outcome = report(tasker_step_complete, engine, step, token,
                            "\"traceparent\": \"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\", "
                            "\"handler\": {\"started_at\": \"2026-01-01T00:00:00Z\", \"finished_at\": \"2026-01-01T00:00:00.25Z\", "
                            "\"attributes\": {\"order.id\": \"o-1\", \"items\": 3, \"express\": true}}");
    CHECK(outcome && strcmp(str(outcome, "action"), "execute") == 0);
    cJSON_Delete(outcome);

    /* a handler run's times may be Unix seconds (what a binding's clock gives without formatting) */
    claim_one(engine, "b", step, token);
    outcome = report(tasker_step_complete, engine, step, token,
                     "\"handler\": {\"started_at\": 1767225600.125, \"finished_at\": 1767225600.25}");
    CHECK(outcome && strcmp(str(outcome, "action"), "complete") == 0);
    cJSON_Delete(outcome);
    tasker_engine_free(engine);
}

/* With "log": {"sink": "events"}, log records are events a subscription to "log.*" pulls; a bad log config is
 * refused when the engine opens. */
static void test_log_records_as_events(void) {
    tasker_engine_t *none = NULL;
    const char *bad = "{\"log\": {\"level\": \"loud\"}}";
    EXPECT_ERROR(tasker_engine_open((const uint8_t *)bad, strlen(bad), &none), TASKER_ERROR_INVALID_ARGUMENT);
    CHECK(none == NULL);

    tasker_engine_t *engine = open_engine("{\"log\": {\"level\": \"information\", \"sink\": \"events\"}}");
    tasker_subscription_t *logs = NULL;
    CHECK(tasker_subscription_open(engine, (const uint8_t *)"log.*", 5, 0, &logs) == NULL);
    cJSON_Delete(CALL_OK(tasker_template_register, engine, LINEAR));
    create_task(engine);
    char step[64], token[64];
    claim_one(engine, "a", step, token);
    cJSON_Delete(report(tasker_step_fail, engine, step, token,
                        "\"error\": {\"message\": \"secret 4111\", \"error_type\": \"Declined\", \"permanent\": true}"));

    tasker_bytes_t batch = {NULL, 0};
    CHECK(tasker_subscription_pull(logs, 100, &batch) == NULL);
    cJSON *pulled = cJSON_ParseWithLength((const char *)batch.data, batch.len);
    int warnings = 0, finished = 0;
    const cJSON *event;
    cJSON_ArrayForEach(event, cJSON_GetObjectItem(pulled, "events")) {
        const cJSON *data = cJSON_GetObjectItem(event, "data");
        CHECK(strcmp(str(data, "category"), "Tasker.Engine") == 0);
        CHECK(strstr(str(data, "message"), "4111") == NULL); /* handler messages never reach the log */
        if (strcmp(str(event, "name"), "log.warning") == 0 && strstr(str(data, "message"), "Declined")) warnings++;
        if (cJSON_GetObjectItem(data, "event_id")->valueint == 1003) finished++;
    }
    CHECK(warnings == 1 && finished == 1);
    cJSON_Delete(pulled);
    tasker_bytes_free(&batch);
    tasker_subscription_free(logs);
    tasker_engine_free(engine);
}

static void test_bad_input(void) {
    tasker_engine_t *engine = open_engine("{}");
    tasker_bytes_t out = {NULL, 0};

    /* NULL pointers */
    EXPECT_ERROR(tasker_task_create(engine, (const uint8_t *)"{}", 2, NULL), TASKER_ERROR_INVALID_ARGUMENT);
    CHECK(call_fails((json_call)tasker_task_create, engine, NULL, 5, TASKER_ERROR_INVALID_ARGUMENT, "null with length"));

    /* invalid UTF-8 and malformed JSON */
    CALL_FAILS(tasker_template_register, engine, "name: \xff\xfe\n", TASKER_ERROR_INVALID_UTF8);
    CALL_FAILS(tasker_task_create, engine, "{\"name\": ", TASKER_ERROR_INVALID_JSON);
    CALL_FAILS(tasker_task_create, engine, "[1, 2]", TASKER_ERROR_INVALID_ARGUMENT);
    CALL_FAILS(tasker_steps_claim, engine, "{\"task_uuid\": 5}", TASKER_ERROR_INVALID_ARGUMENT);
    { /* the length is authoritative: an embedded NUL is data, and makes this JSON malformed */
        tasker_error_t *err = tasker_task_list(engine, (const uint8_t *)"{}\0garbage", 10, &out);
        EXPECT_ERROR(err, TASKER_ERROR_INVALID_JSON);
    }
    EXPECT_ERROR(tasker_engine_open((const uint8_t *)"{\"clock\": \"sundial\"}", 20, &(tasker_engine_t *){NULL}),
                 TASKER_ERROR_INVALID_ARGUMENT);

    /* huge JSON: over the limit is refused before it is read */
    size_t huge = (size_t)TASKER_MAX_INPUT_BYTES + 1;
    char *big = malloc(huge);
    memset(big, ' ', huge);
    CHECK(call_fails((json_call)tasker_task_create, engine, big, huge, TASKER_ERROR_INVALID_ARGUMENT, "huge"));
    free(big);
    /* deep JSON: nesting beyond 64 levels is rejected, not a stack overflow */
    char deep[1024] = "";
    for (int i = 0; i < 200; i++) strcat(deep, "[");
    expect_json_error(tasker_task_create(engine, (const uint8_t *)deep, strlen(deep), &out), "nests deeper than 64 levels");

    /* templates: cycles, unknown dependencies, malformed YAML */
    CALL_FAILS(tasker_template_register, engine,
               "name: c\nnamespace_name: n\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: A }\n"
               "    dependencies: [b]\n  - name: b\n    handler: { callable: B }\n    dependencies: [a]\n",
               TASKER_ERROR_INVALID_DAG);
    {
        const char *cyclic = "name: c\nnamespace_name: n\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: A }\n"
                             "    dependencies: [a]\n";
        tasker_error_t *err = tasker_template_register(engine, (const uint8_t *)cyclic, strlen(cyclic), &out);
        CHECK(tasker_error_code(err) == TASKER_ERROR_INVALID_DAG);
        CHECK(strstr(tasker_error_details(err), "a -> a") != NULL);
        tasker_error_free(err);
    }
    CALL_FAILS(tasker_template_register, engine,
               "name: u\nnamespace_name: n\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: A }\n"
               "    dependencies: [ghost]\n", TASKER_ERROR_INVALID_DAG);
    CALL_FAILS(tasker_template_register, engine, "name: [unclosed\n", TASKER_ERROR_INVALID_ARGUMENT);

    /* unknown names */
    CALL_FAILS(tasker_task_create, engine, "{\"namespace\": \"nope\", \"name\": \"missing\"}", TASKER_ERROR_NOT_FOUND);
    CALL_FAILS(tasker_task_get, engine, "01234567-89ab-7def-8123-456789abcdef", TASKER_ERROR_NOT_FOUND);
    CALL_FAILS(tasker_task_get, engine, "not-a-uuid", TASKER_ERROR_INVALID_ARGUMENT);
    CALL_FAILS(tasker_task_list, engine, "{\"state\": \"sideways\"}", TASKER_ERROR_INVALID_ARGUMENT);

    /* stale claims */
    cJSON_Delete(CALL_OK(tasker_template_register, engine, LINEAR));
    create_task(engine);
    char step[64], token[64], request[512];
    claim_one(engine, "a", step, token);
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"step_uuid\": \"%s\", \"claim_token\": \"forged\", \"result\": 1}",
             task_uuid, step);
    CALL_FAILS(tasker_step_complete, engine, request, TASKER_ERROR_STALE_CLAIM);
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"step_uuid\": \"%s\", \"claim_token\": \"%s\"}",
             task_uuid, step, token);
    CALL_FAILS(tasker_step_fail, engine, request, TASKER_ERROR_INVALID_ARGUMENT); /* no "error" object */
    /* after all that, the claim is still good */
    cJSON *outcome = report(tasker_step_complete, engine, step, token, "\"result\": 1");
    CHECK(outcome != NULL);
    cJSON_Delete(outcome);

    /* subscriptions */
    tasker_subscription_t *subscription = NULL;
    EXPECT_ERROR(tasker_subscription_open(engine, (const uint8_t *)"step*", 5, 0, &subscription), TASKER_ERROR_INVALID_ARGUMENT);
    CHECK(subscription == NULL);

    tasker_engine_free(engine);
}


/* Protocol v2: a claim names the handlers the caller runs; the rest stay ready and are named in the outcome. */
static void test_claims_by_handler(void) {
    tasker_engine_t *engine = open_engine("{\"missing_handler_requeue_seconds\": 7}");
    cJSON_Delete(CALL_OK(tasker_template_register, engine, LINEAR));
    create_task(engine);
    char request[256];
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"handlers\": [\"B\"]}", task_uuid);
    for (int i = 0; i < 3; i++) { /* asking again never fails the step */
        cJSON *claimed = CALL_OK(tasker_steps_claim, engine, request);
        cJSON *outcome = cJSON_GetObjectItem(claimed, "outcome");
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(claimed, "claims")) == 0);
        CHECK(strcmp(str(outcome, "action"), "reenqueue") == 0);
        CHECK(cJSON_GetObjectItem(outcome, "requeue_after_seconds")->valuedouble == 7.0);
        cJSON *wait = cJSON_GetArrayItem(cJSON_GetObjectItem(outcome, "waiting_for_handlers"), 0);
        CHECK(strcmp(str(wait, "handler"), "A") == 0);
        CHECK(strcmp(cJSON_GetArrayItem(cJSON_GetObjectItem(wait, "steps"), 0)->valuestring, "a") == 0);
        cJSON_Delete(claimed);
    }
    cJSON *task = CALL_OK(tasker_task_get, engine, task_uuid);
    cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(task, "steps"), 0);
    CHECK(strcmp(str(a, "state"), "pending") == 0 && cJSON_GetObjectItem(a, "attempts")->valueint == 0);
    cJSON_Delete(task);
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"handlers\": [\"A\", 5]}", task_uuid);
    CALL_FAILS(tasker_steps_claim, engine, request, TASKER_ERROR_INVALID_ARGUMENT);
    tasker_engine_free(engine);
}

/* Protocol v2: a report may claim the task's next steps in the same call. */
static void test_report_and_claim(void) {
    tasker_engine_t *engine = open_engine("{}");
    cJSON_Delete(CALL_OK(tasker_template_register, engine, LINEAR));
    create_task(engine);
    char step[64], token[64], request[512];
    claim_one(engine, "a", step, token);
    snprintf(request, sizeof request,
             "{\"task_uuid\": \"%s\", \"step_uuid\": \"%s\", \"claim_token\": \"%s\", \"result\": 1,"
             " \"claim_next\": {\"max_steps\": 1, \"handlers\": [\"B\"]}}", task_uuid, step, token);
    cJSON *answer = CALL_OK(tasker_step_complete, engine, request);
    cJSON *next = cJSON_GetArrayItem(cJSON_GetObjectItem(answer, "claims"), 0);
    CHECK(next && strcmp(str(cJSON_GetObjectItem(next, "step"), "name"), "b") == 0);
    CHECK(next && cJSON_GetObjectItem(cJSON_GetObjectItem(next, "dependency_results"), "a")->valueint == 1);
    CHECK(next && cJSON_IsNull(cJSON_GetObjectItem(next, "deadline_at")));
    cJSON *left = cJSON_GetObjectItem(next, "steps_left");
    CHECK(cJSON_IsNumber(left) && left->valueint == 0); /* b is the task's last step */
    CHECK(strcmp(str(cJSON_GetObjectItem(answer, "outcome"), "action"), "wait") == 0);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(answer, "outcome"), "requeue_after_seconds")));
    cJSON_Delete(answer);
    CHECK(tasker_engine_close(engine) == NULL);
}

/* A lean answer (the caller holds the task): each claim's task leaves out the task's names (its context and tags stay:
 * each claim's are its own), and the outcome is null while steps are claimed and whole once none is. A malformed
 * "lean" is refused before anything is applied. */
static void expect_lean_claim(cJSON *answer, const char *step_name, char *step, char *token) {
    cJSON *claim = cJSON_GetArrayItem(cJSON_GetObjectItem(answer, "claims"), 0);
    cJSON *task = cJSON_GetObjectItem(claim, "task");
    CHECK(task && cJSON_GetArraySize(task) == 3 && strcmp(str(task, "task_uuid"), task_uuid) == 0);
    cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(task, "context"), "n");
    CHECK(n && n->valueint == 1 && cJSON_GetArraySize(cJSON_GetObjectItem(task, "tags")) == 1);
    CHECK(task && !cJSON_GetObjectItem(task, "namespace"));
    CHECK(claim && strcmp(str(cJSON_GetObjectItem(claim, "step"), "name"), step_name) == 0);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(answer, "outcome")));
    snprintf(step, 64, "%s", claim ? str(cJSON_GetObjectItem(claim, "step"), "step_uuid") : "");
    snprintf(token, 64, "%s", claim ? str(claim, "claim_token") : "");
}

static void test_lean_answers(void) {
    tasker_engine_t *engine = open_engine("{}");
    cJSON_Delete(CALL_OK(tasker_template_register, engine, LINEAR));
    create_task(engine);
    char request[512], step[64], token[64];
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"lean\": 1}", task_uuid);
    CALL_FAILS(tasker_steps_claim, engine, request, TASKER_ERROR_INVALID_ARGUMENT);
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"lean\": true}", task_uuid);
    cJSON *answer = CALL_OK(tasker_steps_claim, engine, request); /* the refused claim took nothing: a is here */
    expect_lean_claim(answer, "a", step, token);
    cJSON_Delete(answer);

    /* a malformed lean in claim_next: the completion is refused whole, a stays claimed */
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"step_uuid\": \"%s\", \"claim_token\": \"%s\", \"result\": 1,"
             " \"claim_next\": {\"max_steps\": 1, \"lean\": \"yes\"}}", task_uuid, step, token);
    CALL_FAILS(tasker_step_complete, engine, request, TASKER_ERROR_INVALID_ARGUMENT);
    cJSON *task = CALL_OK(tasker_task_get, engine, task_uuid);
    CHECK(task && strcmp(str(cJSON_GetArrayItem(cJSON_GetObjectItem(task, "steps"), 0), "state"), "in_progress") == 0);
    cJSON_Delete(task);

    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"step_uuid\": \"%s\", \"claim_token\": \"%s\", \"result\": 1,"
             " \"claim_next\": {\"max_steps\": 1, \"lean\": true}}", task_uuid, step, token);
    answer = CALL_OK(tasker_step_complete, engine, request);
    expect_lean_claim(answer, "b", step, token);
    cJSON *deps = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(answer, "claims"), 0), "dependency_results");
    CHECK(deps && cJSON_GetObjectItem(deps, "a") && cJSON_GetObjectItem(deps, "a")->valueint == 1);
    cJSON_Delete(answer);

    /* nothing left to claim: the outcome is written */
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"reports\": [{\"step_uuid\": \"%s\", \"claim_token\": \"%s\"}],"
             " \"claim_next\": {\"max_steps\": 1, \"lean\": true}}", task_uuid, step, token);
    answer = CALL_OK(tasker_steps_report, engine, request);
    CHECK(answer && cJSON_GetArraySize(cJSON_GetObjectItem(answer, "claims")) == 0);
    CHECK(answer && strcmp(str(cJSON_GetObjectItem(answer, "outcome"), "task_state"), "complete") == 0);
    cJSON_Delete(answer);
    tasker_engine_free(engine);
}

/* Copies the uuid and token of the claim of step `name` out of a claim answer. */
static void find_claim(cJSON *answer, const char *name, char *step_uuid, char *token) {
    const cJSON *claim;
    step_uuid[0] = token[0] = '\0';
    cJSON_ArrayForEach(claim, cJSON_GetObjectItem(answer, "claims")) {
        if (strcmp(str(cJSON_GetObjectItem(claim, "step"), "name"), name) != 0) continue;
        snprintf(step_uuid, 64, "%s", str(cJSON_GetObjectItem(claim, "step"), "step_uuid"));
        snprintf(token, 64, "%s", str(claim, "claim_token"));
    }
    CHECK(step_uuid[0] != '\0');
}

static int report_code(cJSON *answer, int index) {
    cJSON *entry = cJSON_GetArrayItem(cJSON_GetObjectItem(answer, "reports"), index);
    return cJSON_IsNull(entry) ? 0 : cJSON_GetObjectItem(entry, "code")->valueint;
}

/* Several reports of one task in one call: each applied on its own (a refused one answered in its place), then the
 * next steps claimed; a malformed request applies nothing. */
static void test_several_reports_in_one_call(void) {
    static const char *FAN =
        "name: fan\nnamespace_name: abi\nversion: 1.0.0\nsteps:\n"
        "  - name: a\n    handler: { callable: A }\n  - name: b\n    handler: { callable: A }\n"
        "  - name: c\n    handler: { callable: A }\n"
        "  - name: d\n    handler: { callable: D }\n    dependencies: [a, b, c]\n    retry: { retryable: false }\n";
    tasker_engine_t *engine = open_engine("{}");
    cJSON_Delete(CALL_OK(tasker_template_register, engine, FAN));
    cJSON *created = CALL_OK(tasker_task_create, engine, "{\"namespace\": \"abi\", \"name\": \"fan\"}");
    snprintf(task_uuid, sizeof task_uuid, "%s", str(cJSON_GetObjectItem(created, "task"), "task_uuid"));
    cJSON_Delete(created);
    char request[2048], a[64], ta[64], b[64], tb[64], c[64], tc[64], d[64], td[64];
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"max_steps\": 3}", task_uuid);
    cJSON *claimed = CALL_OK(tasker_steps_claim, engine, request);
    find_claim(claimed, "a", a, ta);
    find_claim(claimed, "b", b, tb);
    find_claim(claimed, "c", c, tc);
    cJSON_Delete(claimed);

    /* malformed: refused whole, nothing applied */
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"reports\": []}", task_uuid);
    CALL_FAILS(tasker_steps_report, engine, request, TASKER_ERROR_INVALID_ARGUMENT);
    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"reports\": [{\"step_uuid\": \"%s\", \"claim_token\": \"%s\"},"
             " {\"step_uuid\": \"%s\"}]}", task_uuid, a, ta, b);
    CALL_FAILS(tasker_steps_report, engine, request, TASKER_ERROR_INVALID_ARGUMENT);
    cJSON *task = CALL_OK(tasker_task_get, engine, task_uuid);
    CHECK(task && strcmp(str(cJSON_GetArrayItem(cJSON_GetObjectItem(task, "steps"), 0), "state"), "in_progress") == 0);
    cJSON_Delete(task);

    /* a applied; b's stale token and c's result with a NUL refused in their places */
    snprintf(request, sizeof request,
             "{\"task_uuid\": \"%s\", \"reports\": [{\"step_uuid\": \"%s\", \"claim_token\": \"%s\", \"result\": 1},"
             " {\"step_uuid\": \"%s\", \"claim_token\": \"stale\", \"result\": 2},"
             " {\"step_uuid\": \"%s\", \"claim_token\": \"%s\", \"result\": \"a\\u0000b\"}],"
             " \"claim_next\": {\"max_steps\": 4}}", task_uuid, a, ta, b, c, tc);
    cJSON *answer = CALL_OK(tasker_steps_report, engine, request);
    CHECK(answer && cJSON_GetArraySize(cJSON_GetObjectItem(answer, "reports")) == 3);
    CHECK(answer && report_code(answer, 0) == 0 && report_code(answer, 1) == TASKER_ERROR_STALE_CLAIM &&
          report_code(answer, 2) == TASKER_ERROR_INVALID_ARGUMENT);
    CHECK(answer && cJSON_GetArraySize(cJSON_GetObjectItem(answer, "claims")) == 0);
    CHECK(answer && cJSON_GetObjectItem(cJSON_GetObjectItem(answer, "outcome"), "in_progress_steps")->valueint == 2);
    cJSON_Delete(answer);

    /* b and c reported properly: d is claimed in the same call */
    snprintf(request, sizeof request,
             "{\"task_uuid\": \"%s\", \"reports\": [{\"step_uuid\": \"%s\", \"claim_token\": \"%s\", \"result\": 2,"
             " \"handler\": {\"started_at\": 1767225600, \"finished_at\": 1767225600.5}},"
             " {\"step_uuid\": \"%s\", \"claim_token\": \"%s\"}], \"claim_next\": {\"max_steps\": 4, \"handlers\": [\"D\"]}}",
             task_uuid, b, tb, c, tc);
    answer = CALL_OK(tasker_steps_report, engine, request);
    CHECK(answer && report_code(answer, 0) == 0 && report_code(answer, 1) == 0);
    find_claim(answer, "d", d, td);
    cJSON *deps = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(answer, "claims"), 0), "dependency_results");
    CHECK(deps && cJSON_GetObjectItem(deps, "a")->valueint == 1 && cJSON_GetObjectItem(deps, "b")->valueint == 2 &&
          cJSON_IsNull(cJSON_GetObjectItem(deps, "c")));
    cJSON_Delete(answer);

    /* a failure without claim_next: the outcome after it */
    snprintf(request, sizeof request,
             "{\"task_uuid\": \"%s\", \"reports\": [{\"step_uuid\": \"%s\", \"claim_token\": \"%s\","
             " \"error\": {\"message\": \"declined\", \"error_type\": \"Declined\"}}]}", task_uuid, d, td);
    answer = CALL_OK(tasker_steps_report, engine, request);
    CHECK(answer && report_code(answer, 0) == 0);
    CHECK(answer && strcmp(str(cJSON_GetObjectItem(answer, "outcome"), "task_state"), "error") == 0);
    cJSON_Delete(answer);
    tasker_engine_free(engine);
}

/* Worker mode: one call claims ready steps of the named handlers across tasks. */
static void test_work_claim_across_tasks(void) {
    tasker_engine_t *engine = open_engine("{}");
    cJSON_Delete(CALL_OK(tasker_template_register, engine, LINEAR));
    create_task(engine);
    create_task(engine);
    cJSON *work = CALL_OK(tasker_work_claim, engine, "{\"handlers\": [\"A\"], \"max_steps\": 5, \"worker_id\": \"w1\"}");
    cJSON *claims = cJSON_GetObjectItem(work, "claims");
    CHECK(cJSON_GetArraySize(claims) == 2);
    CHECK(strcmp(str(cJSON_GetObjectItem(cJSON_GetArrayItem(claims, 0), "step"), "name"), "a") == 0);
    cJSON *left = cJSON_GetObjectItem(cJSON_GetArrayItem(claims, 0), "steps_left");
    CHECK(cJSON_IsNumber(left) && left->valueint == 1); /* b is still pending */
    CHECK(strcmp(str(cJSON_GetObjectItem(cJSON_GetArrayItem(claims, 0), "task"), "task_uuid"),
                 str(cJSON_GetObjectItem(cJSON_GetArrayItem(claims, 1), "task"), "task_uuid")) != 0);
    cJSON_Delete(work);
    work = CALL_OK(tasker_work_claim, engine, "{\"handlers\": [\"A\", \"B\"], \"wait_seconds\": 0.05}");
    CHECK(work && cJSON_GetArraySize(cJSON_GetObjectItem(work, "claims")) == 0); /* both a's are in flight */
    cJSON_Delete(work);
    CALL_FAILS(tasker_work_claim, engine, "{}", TASKER_ERROR_INVALID_ARGUMENT);
    CALL_FAILS(tasker_work_claim, engine, "{\"handlers\": []}", TASKER_ERROR_INVALID_ARGUMENT);
    CALL_FAILS(tasker_work_claim, engine, "{\"handlers\": [\"A\"], \"wait_seconds\": 61}", TASKER_ERROR_INVALID_ARGUMENT);
    tasker_engine_free(engine);
}

/* Text that cannot be stored, and configuration out of range, are INVALID_ARGUMENT naming the field. */
static void expect_field(tasker_error_t *err, const char *field) {
    CHECK(tasker_error_code(err) == TASKER_ERROR_INVALID_ARGUMENT);
    cJSON *details = cJSON_Parse(tasker_error_details(err));
    CHECK(details && strcmp(str(details, "field"), field) == 0);
    cJSON_Delete(details);
    tasker_error_free(err);
}

static void test_unstorable_text_and_bad_config(void) {
    tasker_engine_t *engine = open_engine("{}");
    cJSON_Delete(CALL_OK(tasker_template_register, engine, LINEAR));
    tasker_bytes_t out = {NULL, 0};
    const char *nul_context = "{\"namespace\": \"abi\", \"name\": \"linear\", \"context\": {\"x\": \"a\\u0000b\"}}";
    expect_field(tasker_task_create(engine, (const uint8_t *)nul_context, strlen(nul_context), &out), "context");
    const char *nul_tag = "{\"namespace\": \"abi\", \"name\": \"linear\", \"tags\": [\"a\\u0000\"]}";
    expect_field(tasker_task_create(engine, (const uint8_t *)nul_tag, strlen(nul_tag), &out), "tags");
    const char *object_tag = "{\"namespace\": \"abi\", \"name\": \"linear\", \"tags\": [{\"x\": 1}, 5, null, true]}";
    expect_field(tasker_task_create(engine, (const uint8_t *)object_tag, strlen(object_tag), &out), "tags");
    const char *nul_filter = "{\"namespace\": \"a\\u0000\"}";
    expect_field(tasker_task_list(engine, (const uint8_t *)nul_filter, strlen(nul_filter), &out), "namespace");
    const char *negative_timeout = "name: t\nnamespace_name: n\nversion: 1.0.0\nsteps:\n  - name: a\n"
                                   "    handler: { callable: A }\n    timeout_seconds: -5\n";
    expect_field(tasker_template_register(engine, (const uint8_t *)negative_timeout, strlen(negative_timeout), &out),
                 "timeout_seconds");
    const char *nul_template = "{\"name\": \"t\", \"namespace_name\": \"n\", \"version\": \"1.0.0\", "
                               "\"description\": \"a\\u0000b\", \"steps\": [{\"name\": \"a\", \"handler\": \"A\"}]}";
    expect_field(tasker_template_register(engine, (const uint8_t *)nul_template, strlen(nul_template), &out),
                 "template");
    cJSON *tasks = CALL_OK(tasker_task_list, engine, "{}");
    CHECK(tasks && cJSON_GetArraySize(cJSON_GetObjectItem(tasks, "tasks")) == 0); /* nothing half-written */
    cJSON_Delete(tasks);
    tasker_engine_free(engine);

    static const char *configs[][2] = {
        {"{\"pool_size\": -1}", "pool_size"},
        {"{\"pool_size\": 100000}", "pool_size"},
        {"{\"telemetry\": {\"exporter\": \"ftp\"}}", "telemetry.exporter"},
        {"{\"missing_handler_requeue_seconds\": -1}", "missing_handler_requeue_seconds"},
        {"{\"work_affinity_seconds\": 7200}", "work_affinity_seconds"},
        {"{\"announce_tasks\": \"yes\"}", "announce_tasks"},
        {"{\"durable_claims\": 1}", "durable_claims"},
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        tasker_engine_t *none = NULL;
        expect_field(tasker_engine_open((const uint8_t *)configs[i][0], strlen(configs[i][0]), &none), configs[i][1]);
        CHECK(none == NULL);
    }
}

int main(int argc, char **argv) {
#ifndef _WIN32
    setenv("OTEL_SDK_DISABLED", "true", 1); /* before the library starts: these tests do not export telemetry */
#endif
    int status = use_store(argc > 1 ? argv[1] : "memory");
    if (status) return status;
    test_versions();
    test_no_tls_library_is_loaded_for_ids();
    test_whole_workflow();
    test_operator_actions();
    test_bad_handles();
    test_wrong_kind_of_handle();
    test_null_outputs();
    test_bad_input();
    test_invalid_utf8_everywhere();
    test_unpaired_surrogates_are_refused_and_nothing_is_written();
    test_trace_context_fields();
    test_log_records_as_events();
    test_claims_by_handler();
    test_work_claim_across_tasks();
    test_report_and_claim();
    test_lean_answers();
    test_several_reports_in_one_call();
    test_unstorable_text_and_bad_config();
    if (test_failures) fprintf(stderr, "%d check(s) failed\n", test_failures);
    else printf("all API checks passed\n");
    return test_failures ? 1 : 0;
}
