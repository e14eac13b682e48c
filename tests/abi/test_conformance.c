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

static cJSON *run_step(tasker_engine_t *engine, const cJSON *fixture, const char *task_uuid, const cJSON *claim) {
    const cJSON *step = cJSON_GetObjectItem(claim, "step");
    const cJSON *b = behaviour(fixture, str(step, "name"), cJSON_GetObjectItem(step, "attempt")->valueint);
    cJSON *report = cJSON_CreateObject();
    cJSON_AddStringToObject(report, "task_uuid", task_uuid);
    cJSON_AddStringToObject(report, "step_uuid", str(step, "step_uuid"));
    cJSON_AddStringToObject(report, "claim_token", str(claim, "claim_token"));
    const cJSON *fail = b ? cJSON_GetObjectItem(b, "fail") : NULL;
    if (fail) {
        cJSON *error = cJSON_Duplicate(fail, 1);
        cJSON_AddStringToObject(error, "error_type", "Scripted");
        cJSON_AddItemToObject(report, "error", error);
    } else {
        cJSON_AddItemToObject(report, "result", b ? cJSON_Duplicate(cJSON_GetObjectItem(b, "return"), 1) : cJSON_Parse("{\"ok\": true}"));
    }
    char *text = cJSON_PrintUnformatted(report);
    cJSON *outcome = CALL_OK(fail ? tasker_step_fail : tasker_step_complete, engine, text);
    free(text);
    cJSON_Delete(report);
    return outcome;
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
    char task_uuid[64], claim_request[128];
    snprintf(task_uuid, sizeof task_uuid, "%s", str(cJSON_GetObjectItem(created, "task"), "task_uuid"));
    cJSON_Delete(created);
    snprintf(claim_request, sizeof claim_request, "{\"task_uuid\": \"%s\", \"max_steps\": 1000}", task_uuid);

    cJSON *delays = cJSON_CreateArray();
    cJSON *outcome = CALL_OK(tasker_task_evaluate, engine, task_uuid);
    for (int round = 0; outcome && round < 100; round++) {
        const char *action = str(outcome, "action");
        if (strcmp(action, "execute") == 0) {
            cJSON *claimed = CALL_OK(tasker_steps_claim, engine, claim_request);
            cJSON_Delete(outcome);
            outcome = cJSON_DetachItemFromObject(claimed, "outcome");
            const cJSON *claim;
            cJSON_ArrayForEach(claim, cJSON_GetObjectItem(claimed, "claims")) {
                cJSON_Delete(outcome);
                outcome = run_step(engine, fixture, task_uuid, claim);
            }
            cJSON_Delete(claimed);
        } else if (strcmp(action, "reenqueue") == 0) {
            double delay = cJSON_GetObjectItem(outcome, "delay_seconds")->valuedouble;
            cJSON_AddItemToArray(delays, cJSON_CreateNumber(delay));
            CHECK(tasker_engine_advance_clock(engine, (int64_t)(delay * 1000.0 + 0.5)) == NULL);
            cJSON_Delete(outcome);
            outcome = CALL_OK(tasker_task_evaluate, engine, task_uuid);
        } else {
            break;
        }
    }
    cJSON_Delete(outcome);

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
        if (strcmp(str(found, "state"), str(want, "state")) != 0 || attempts != want_attempts ||
            (want_result && !cJSON_Compare(want_result, cJSON_GetObjectItem(found, "result"), 1))) {
            fprintf(stderr, "%s: step %s is %s/%d, expected %s/%d\n", file, want->string, str(found, "state"), attempts,
                    str(want, "state"), want_attempts);
            test_failures++;
        }
    }
    if (!cJSON_Compare(delays, cJSON_GetObjectItem(expect, "reenqueue_delays"), 1)) {
        char *got = cJSON_PrintUnformatted(delays);
        fprintf(stderr, "%s: re-enqueue delays %s differ from the expected ones\n", file, got);
        free(got);
        test_failures++;
    }
    check_events(file, subscription, expect);
    CHECK(tasker_subscription_free(subscription) == NULL);
    cJSON_Delete(delays);
    cJSON_Delete(task);
    cJSON_Delete(fixture);
    CHECK(tasker_engine_free(engine) == NULL);
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
