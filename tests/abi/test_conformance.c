/*
 * Runs every shared fixture in tests/conformance/fixtures through the C ABI (see tests/conformance/README.md).
 * Usage: test_conformance <conformance dir> memory|postgres
 * The postgres variant uses TASKER_TEST_DATABASE_URL and a fresh schema per fixture; without the variable it exits
 * 77 (CTest's "skipped"), so a missing database is visible, never a silent pass.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>

#include "support.h"

/* The fixture's engine config as JSON text (open_engine adds the store). */
static char *engine_config(const cJSON *fixture) {
    const cJSON *config = cJSON_GetObjectItem(fixture, "engine_config");
    return config ? cJSON_PrintUnformatted(config) : strdup("{}");
}

/* The scripted behaviour for `attempt` (1-based); the last entry repeats. NULL: return {"ok": true}. */
static const cJSON *behaviour(const cJSON *fixture, const char *step, int attempt) {
    const cJSON *script = cJSON_GetObjectItem(cJSON_GetObjectItem(fixture, "handlers"), step);
    if (!script) return NULL;
    int count = cJSON_GetArraySize(script);
    return cJSON_GetArrayItem(script, attempt < count ? attempt - 1 : count - 1);
}

/* A JSON text of `depth` nested arrays: [[[...]]]. */
static char *nested(int depth) {
    char *text = malloc((size_t)depth * 2 + 1);
    memset(text, '[', (size_t)depth);
    memset(text + depth, ']', (size_t)depth);
    text[depth * 2] = '\0';
    return text;
}

/* Sends a report; on success returns the answer ({"claims", "outcome"}), else the error (out-parameter). */
static cJSON *send_report(json_call fn, tasker_engine_t *engine, cJSON *report, tasker_error_t **error) {
    char *text = cJSON_PrintUnformatted(report);
    tasker_bytes_t out = {NULL, 0};
    *error = fn(engine, (const uint8_t *)text, strlen(text), &out);
    free(text);
    cJSON *answer = *error ? NULL : cJSON_ParseWithLength((const char *)out.data, out.len);
    tasker_bytes_free(&out);
    return answer;
}

/*
 * Runs one claim's scripted behaviour and reports it, with claim_next when given. Returns the answer, or NULL when
 * the report was a stale claim (the attempt's deadline passed or the task timed out: the next claim records it).
 */
static cJSON *run_step(tasker_engine_t *engine, const cJSON *fixture, const char *task_uuid, const cJSON *claim,
                       const cJSON *claim_next) {
    const cJSON *step = cJSON_GetObjectItem(claim, "step");
    const cJSON *b = behaviour(fixture, str(step, "name"), cJSON_GetObjectItem(step, "attempt")->valueint);
    const cJSON *advance = b ? cJSON_GetObjectItem(b, "advance_seconds") : NULL;
    if (advance) CHECK(tasker_engine_advance_clock(engine, (int64_t)(advance->valuedouble * 1000.0 + 0.5)) == NULL);
    cJSON *report = cJSON_CreateObject();
    cJSON_AddStringToObject(report, "task_uuid", task_uuid);
    cJSON_AddStringToObject(report, "step_uuid", str(step, "step_uuid"));
    cJSON_AddStringToObject(report, "claim_token", str(claim, "claim_token"));
    if (b && cJSON_IsTrue(cJSON_GetObjectItem(b, "heartbeat"))) {
        cJSON_AddNumberToObject(report, "lease_seconds", 3600);
        char *text = cJSON_PrintUnformatted(report);
        cJSON *lease = CALL_OK(tasker_step_heartbeat, engine, text);
        free(text);
        const cJSON *deadline = cJSON_GetObjectItem(claim, "deadline_at");
        /* RFC 3339 UTC times of one writer compare as text */
        CHECK(lease && (cJSON_IsNull(deadline) || strcmp(str(lease, "lease_expires_at"), deadline->valuestring) <= 0));
        cJSON_Delete(lease);
        cJSON_DeleteItemFromObject(report, "lease_seconds");
    }
    if (claim_next) cJSON_AddItemToObject(report, "claim_next", cJSON_Duplicate(claim_next, 1));
    const cJSON *fail = b ? cJSON_GetObjectItem(b, "fail") : NULL;
    tasker_error_t *error = NULL;
    cJSON *answer;
    if (fail) {
        cJSON *e = cJSON_Duplicate(fail, 1);
        cJSON_AddStringToObject(e, "error_type", "Scripted");
        cJSON_AddItemToObject(report, "error", e);
        answer = send_report((json_call)tasker_step_fail, engine, report, &error);
    } else {
        const cJSON *depth = b ? cJSON_GetObjectItem(b, "return_nested") : NULL;
        char *deep = depth ? nested(depth->valueint) : NULL;
        cJSON_AddItemToObject(report, "result", deep ? cJSON_CreateRaw(deep)
                                                     : b ? cJSON_Duplicate(cJSON_GetObjectItem(b, "return"), 1)
                                                         : cJSON_Parse("{\"ok\": true}"));
        free(deep);
        answer = send_report((json_call)tasker_step_complete, engine, report, &error);
        int code = tasker_error_code(error);
        if (error && (code == TASKER_ERROR_INVALID_JSON || code == TASKER_ERROR_INVALID_ARGUMENT || code == TASKER_ERROR_INVALID_UTF8)) {
            /* the engine refused the result: report it as the step's failure, as every binding does */
            char message[1024];
            snprintf(message, sizeof message, "the engine refused the step's result: %s", tasker_error_message(error));
            tasker_error_free(error);
            cJSON_DeleteItemFromObject(report, "result");
            cJSON *e = cJSON_AddObjectToObject(report, "error");
            cJSON_AddStringToObject(e, "message", message);
            cJSON_AddStringToObject(e, "error_type", "InvalidResult");
            answer = send_report((json_call)tasker_step_fail, engine, report, &error);
        }
    }
    cJSON_Delete(report);
    if (error) {
        CHECK(tasker_error_code(error) == TASKER_ERROR_STALE_CLAIM);
        tasker_error_free(error);
    }
    return answer;
}

/* tests/conformance/events.json, loaded once by main. */
static cJSON *catalog;

static int field_present(const cJSON *object, const char *name) {
    const cJSON *value = cJSON_GetObjectItem(object, name);
    return value && !cJSON_IsNull(value);
}

/* Checks one pulled event against the catalog; counts task.* and step.* events into `counts` (name -> number). */
static void check_event(const char *file, const cJSON *event, cJSON *counts) {
    const char *name = str(event, "name");
    const cJSON *entry = cJSON_GetObjectItem(cJSON_GetObjectItem(catalog, "events"), name);
    if (!entry) {
        fprintf(stderr, "%s: event %s is not in the catalog\n", file, name);
        test_failures++;
        return;
    }
    const cJSON *lists[] = {cJSON_GetObjectItem(catalog, "common"), cJSON_GetObjectItem(entry, "fields")};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *field;
        cJSON_ArrayForEach(field, lists[i]) if (!field_present(event, field->valuestring)) {
            fprintf(stderr, "%s: %s has no %s\n", file, name, field->valuestring);
            test_failures++;
        }
    }
    const cJSON *key;
    cJSON_ArrayForEach(key, cJSON_GetObjectItem(entry, "data")) if (!field_present(cJSON_GetObjectItem(event, "data"), key->valuestring)) {
        fprintf(stderr, "%s: %s has no data.%s\n", file, name, key->valuestring);
        test_failures++;
    }
    const cJSON *error = cJSON_GetObjectItem(event, "error");
    if (cJSON_IsObject(error)) {
        cJSON_ArrayForEach(key, cJSON_GetObjectItem(catalog, "error_fields")) if (!field_present(error, key->valuestring)) {
            fprintf(stderr, "%s: %s has no error.%s\n", file, name, key->valuestring);
            test_failures++;
        }
    }
    if (strncmp(name, "task.", 5) == 0 || strncmp(name, "step.", 5) == 0) {
        cJSON *count = cJSON_GetObjectItem(counts, name);
        if (count) cJSON_SetNumberValue(count, count->valuedouble + 1);
        else cJSON_AddNumberToObject(counts, name, 1);
    }
}

/* Pulls everything the subscription buffered and checks it; the counts must equal expect.events. */
static void check_events(const char *file, tasker_subscription_t *subscription, const cJSON *expect) {
    cJSON *counts = cJSON_CreateObject();
    for (;;) {
        tasker_bytes_t batch = {NULL, 0};
        tasker_error_t *err = tasker_subscription_pull(subscription, 1000, &batch);
        if (err) {
            fprintf(stderr, "%s: pull failed: %s\n", file, tasker_error_message(err));
            tasker_error_free(err);
            test_failures++;
            break;
        }
        cJSON *parsed = cJSON_ParseWithLength((const char *)batch.data, batch.len);
        tasker_bytes_free(&batch);
        CHECK(parsed && cJSON_GetObjectItem(parsed, "dropped")->valueint == 0);
        const cJSON *events = cJSON_GetObjectItem(parsed, "events"), *event;
        int n = cJSON_GetArraySize(events);
        cJSON_ArrayForEach(event, events) check_event(file, event, counts);
        cJSON_Delete(parsed);
        if (n == 0) break;
    }
    /* cJSON_Compare matches object members by name, so the order of the keys does not matter. */
    if (!cJSON_Compare(counts, cJSON_GetObjectItem(expect, "events"), 1)) {
        char *got = cJSON_PrintUnformatted(counts);
        fprintf(stderr, "%s: event counts %s differ from expect.events\n", file, got);
        free(got);
        test_failures++;
    }
    cJSON_Delete(counts);
}

static int run_fixture(const char *dir, const char *file) {
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/%s", dir, file);
    char *text = read_file(path);
    cJSON *fixture = cJSON_Parse(text);
    free(text);
    int before = test_failures;

    char *config = engine_config(fixture);
    tasker_engine_t *engine = open_engine(config);
    free(config);
    tasker_subscription_t *subscription = NULL;
    CHECK(tasker_subscription_open(engine, (const uint8_t *)"*", 1, 0, &subscription) == NULL);
    snprintf(path, sizeof path, "%s/templates/%s", dir, str(fixture, "template"));
    char *yaml = read_file(path);
    cJSON *template = CALL_OK(tasker_template_register, engine, yaml);
    free(yaml);

    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "namespace", str(template, "namespace"));
    cJSON_AddStringToObject(request, "name", str(template, "name"));
    cJSON_AddItemToObject(request, "context", cJSON_Duplicate(cJSON_GetObjectItem(fixture, "context"), 1));
    char *request_text = cJSON_PrintUnformatted(request);
    cJSON *created = CALL_OK(tasker_task_create, engine, request_text);
    free(request_text);
    cJSON_Delete(request);
    cJSON_Delete(template);
    char task_uuid[64];
    snprintf(task_uuid, sizeof task_uuid, "%s", str(cJSON_GetObjectItem(created, "task"), "task_uuid"));
    cJSON_Delete(created);
    cJSON *claim_next = cJSON_CreateObject(); /* what every claim asks for; the claim request adds task_uuid */
    cJSON_AddNumberToObject(claim_next, "max_steps", 1000);
    const cJSON *present = cJSON_GetObjectItem(fixture, "handlers_present");
    if (present) cJSON_AddItemToObject(claim_next, "handlers", cJSON_Duplicate(present, 1));
    cJSON *claim_request = cJSON_Duplicate(claim_next, 1);
    cJSON_AddStringToObject(claim_request, "task_uuid", task_uuid);
    char *claim_text = cJSON_PrintUnformatted(claim_request);
    cJSON_Delete(claim_request);

    /* The v2 runner of tests/conformance/README.md: claim, report each claim (the last with claim_next), repeat. */
    cJSON *delays = cJSON_CreateArray();
    int claim_calls = 1;
    cJSON *batch = CALL_OK(tasker_steps_claim, engine, claim_text);
    for (int round = 0; batch && round < 100; round++) {
        const cJSON *claims = cJSON_GetObjectItem(batch, "claims");
        int n = cJSON_GetArraySize(claims);
        if (n > 0) {
            cJSON *next = NULL;
            for (int i = 0; i < n; i++) {
                cJSON_Delete(next);
                next = run_step(engine, fixture, task_uuid, cJSON_GetArrayItem(claims, i), i == n - 1 ? claim_next : NULL);
            }
            const cJSON *next_outcome = next ? cJSON_GetObjectItem(next, "outcome") : NULL;
            if (next && (cJSON_GetArraySize(cJSON_GetObjectItem(next, "claims")) > 0 || strcmp(str(next_outcome, "action"), "execute") != 0)) {
                cJSON_Delete(batch);
                batch = next;
                continue;
            }
            cJSON_Delete(next);
        } else {
            const cJSON *outcome = cJSON_GetObjectItem(batch, "outcome");
            const char *action = str(outcome, "action");
            if (strcmp(action, "reenqueue") == 0 && cJSON_GetArraySize(cJSON_GetObjectItem(outcome, "waiting_for_handlers")) > 0)
                break; /* only workers with other handlers can go on */
            if (strcmp(action, "reenqueue") == 0) {
                double delay = cJSON_GetObjectItem(outcome, "delay_seconds")->valuedouble;
                cJSON_AddItemToArray(delays, cJSON_CreateNumber(delay));
                CHECK(tasker_engine_advance_clock(engine, (int64_t)(delay * 1000.0 + 0.5)) == NULL);
            } else if (strcmp(action, "execute") != 0) {
                break;
            }
        }
        cJSON_Delete(batch);
        claim_calls++;
        batch = CALL_OK(tasker_steps_claim, engine, claim_text);
    }
    free(claim_text);
    cJSON_Delete(claim_next);

    const cJSON *expect = cJSON_GetObjectItem(fixture, "expect");
    cJSON *task = CALL_OK(tasker_task_get, engine, task_uuid);
    if (strcmp(str(task, "state"), str(expect, "task_state")) != 0) {
        fprintf(stderr, "%s: task %s, expected %s\n", file, str(task, "state"), str(expect, "task_state"));
        test_failures++;
    }
    const cJSON *want;
    cJSON_ArrayForEach(want, cJSON_GetObjectItem(expect, "steps")) {
        const cJSON *step, *found = NULL;
        cJSON_ArrayForEach(step, cJSON_GetObjectItem(task, "steps"))
            if (strcmp(str(step, "name"), want->string) == 0) found = step;
        if (!found) {
            fprintf(stderr, "%s: no step %s\n", file, want->string);
            test_failures++;
            continue;
        }
        int attempts = cJSON_GetObjectItem(found, "attempts")->valueint;
        int want_attempts = cJSON_GetObjectItem(want, "attempts")->valueint;
        const cJSON *want_result = cJSON_GetObjectItem(want, "result");
        const cJSON *want_error = cJSON_GetObjectItem(want, "error_type");
        const cJSON *error = cJSON_GetObjectItem(found, "error");
        if (strcmp(str(found, "state"), str(want, "state")) != 0 || attempts != want_attempts ||
            (want_result && !cJSON_Compare(want_result, cJSON_GetObjectItem(found, "result"), 1)) ||
            (want_error && !(cJSON_IsObject(error) && strcmp(str(error, "error_type"), want_error->valuestring) == 0))) {
            fprintf(stderr, "%s: step %s is %s/%d, expected %s/%d\n", file, want->string, str(found, "state"), attempts,
                    str(want, "state"), want_attempts);
            test_failures++;
        }
    }
    const cJSON *want_waiting = cJSON_GetObjectItem(expect, "waiting_for_handlers");
    if (want_waiting) {
        /* {"C": ["c"]} against [{"handler": "C", "steps": ["c"]}] */
        cJSON *got = cJSON_CreateObject();
        const cJSON *wait;
        cJSON_ArrayForEach(wait, cJSON_GetObjectItem(cJSON_GetObjectItem(batch, "outcome"), "waiting_for_handlers"))
            cJSON_AddItemToObject(got, str(wait, "handler"), cJSON_Duplicate(cJSON_GetObjectItem(wait, "steps"), 1));
        if (!cJSON_Compare(got, want_waiting, 1)) {
            fprintf(stderr, "%s: waiting_for_handlers differs\n", file);
            test_failures++;
        }
        cJSON_Delete(got);
    }
    const cJSON *want_calls = cJSON_GetObjectItem(expect, "claim_calls");
    if (want_calls && want_calls->valueint != claim_calls) {
        fprintf(stderr, "%s: %d claim calls, expected %d\n", file, claim_calls, want_calls->valueint);
        test_failures++;
    }
    cJSON_Delete(batch);
    if (!cJSON_Compare(delays, cJSON_GetObjectItem(expect, "reenqueue_delays"), 1)) {
        char *got = cJSON_PrintUnformatted(delays);
        fprintf(stderr, "%s: re-enqueue delays %s differ from the expected ones\n", file, got);
        free(got);
        test_failures++;
    }
    check_events(file, subscription, expect);
    tasker_subscription_free(subscription);
    cJSON_Delete(delays);
    cJSON_Delete(task);
    cJSON_Delete(fixture);
    CHECK(tasker_engine_close(engine) == NULL);
    printf("%-50s %s\n", file, test_failures == before ? "ok" : "FAILED");
    return test_failures == before;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <conformance dir> memory|postgres\n", argv[0]);
        return 2;
    }
    int status = use_store(argv[2]);
    if (status) return status;
    char path[1024];
    snprintf(path, sizeof path, "%s/events.json", argv[1]);
    char *text = read_file(path);
    catalog = cJSON_Parse(text);
    free(text);
    if (!catalog) {
        fprintf(stderr, "%s: not JSON\n", path);
        return 1;
    }
    char fixtures[1024];
    snprintf(fixtures, sizeof fixtures, "%s/fixtures", argv[1]);
    struct dirent **entries;
    int count = scandir(fixtures, &entries, NULL, alphasort);
    if (count < 0) {
        perror(fixtures);
        return 1;
    }
    int ran = 0;
    for (int i = 0; i < count; i++) {
        const char *name = entries[i]->d_name;
        size_t len = strlen(name);
        if (len > 5 && strcmp(name + len - 5, ".json") == 0) {
            run_fixture(argv[1], name);
            ran++;
        }
        free(entries[i]);
    }
    free(entries);
    CHECK(ran >= 10);
    cJSON_Delete(catalog);
    printf("%d fixtures, %d failure(s)\n", ran, test_failures);
    return test_failures ? 1 : 0;
}
