/*
 * The order-fulfillment workflow in plain C on the embedded memory store.
 *
 * Handlers are C functions looked up by the template's callable names. The host loop is the one every binding
 * implements: claim the ready steps of the handlers it has, run each handler, report the result, follow the
 * outcome's action.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tasker.h"

#ifndef TASKER_TEMPLATE_DIR
#define TASKER_TEMPLATE_DIR "examples/templates"
#endif

/* A handler returns a JSON result the caller frees, or NULL with *error set to a static message. */
typedef char *(*handler_fn)(const cJSON *claim, const char **error);

static char *validate_order(const cJSON *claim, const char **error) {
    const cJSON *order = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(claim, "task"), "context"), "order");
    const cJSON *total = cJSON_GetObjectItem(order, "total");
    if (!cJSON_IsNumber(total)) {
        *error = "order has no total";
        return NULL;
    }
    char *result = malloc(64);
    snprintf(result, 64, "{\"valid\": true, \"total\": %.2f}", total->valuedouble);
    return result;
}

static char *reserve_inventory(const cJSON *claim, const char **error) {
    (void)claim;
    (void)error;
    return strdup("{\"reservation\": \"RSV-1001\"}");
}

static char *process_payment(const cJSON *claim, const char **error) {
    /* The payment gateway times out on the first attempt, to show a retry. */
    int attempt = cJSON_GetObjectItem(cJSON_GetObjectItem(claim, "step"), "attempt")->valueint;
    if (attempt == 1) {
        *error = "payment gateway timed out";
        return NULL;
    }
    return strdup("{\"payment_id\": \"PAY-1001\"}");
}

static char *ship_order(const cJSON *claim, const char **error) {
    (void)claim;
    (void)error;
    return strdup("{\"tracking\": \"TRK-1001\"}");
}

static const struct {
    const char *name;
    handler_fn fn;
} handlers[] = {
    {"ValidateOrder", validate_order},
    {"ReserveInventory", reserve_inventory},
    {"ProcessPayment", process_payment},
    {"ShipOrder", ship_order},
};

static handler_fn find_handler(const char *name) {
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (strcmp(handlers[i].name, name) == 0) return handlers[i].fn;
    return NULL;
}

/* Prints and frees an error; returns 1 so callers can `return fail(err)`. */
static int fail(tasker_error_t *err) {
    fprintf(stderr, "tasker error %d: %s\n", tasker_error_code(err), tasker_error_message(err));
    tasker_error_free(err);
    return 1;
}

/* Calls fn(engine, json, len, &out) and parses the output. Returns NULL (after printing) on error. */
typedef tasker_error_t *(*json_call)(tasker_engine_t *, const uint8_t *, size_t, tasker_bytes_t *);

static cJSON *call(json_call fn, tasker_engine_t *engine, const char *input) {
    tasker_bytes_t out = {NULL, 0};
    tasker_error_t *err = fn(engine, (const uint8_t *)input, strlen(input), &out);
    if (err) {
        fail(err);
        return NULL;
    }
    cJSON *json = cJSON_ParseWithLength((const char *)out.data, out.len);
    tasker_bytes_free(&out);
    return json;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    size_t got = fread(text, 1, (size_t)size, f);
    text[got] = '\0';
    fclose(f);
    return text;
}

static void sleep_seconds(double seconds) {
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Runs every claimed step and reports it; returns the last outcome (owned by the caller). */
static cJSON *run_claims(tasker_engine_t *engine, const char *task_uuid, cJSON *claimed) {
    cJSON *outcome = cJSON_DetachItemFromObject(claimed, "outcome");
    const cJSON *claim;
    cJSON_ArrayForEach(claim, cJSON_GetObjectItem(claimed, "claims")) {
        const cJSON *step = cJSON_GetObjectItem(claim, "step");
        const char *step_name = cJSON_GetObjectItem(step, "name")->valuestring;
        const char *step_uuid = cJSON_GetObjectItem(step, "step_uuid")->valuestring;
        const char *token = cJSON_GetObjectItem(claim, "claim_token")->valuestring;
        int attempt = cJSON_GetObjectItem(step, "attempt")->valueint;

        /* Only steps of handlers named in the claim request are claimed: fn is never NULL here. */
        const char *error = "handler failed";
        handler_fn fn = find_handler(cJSON_GetObjectItem(step, "handler")->valuestring);
        char *result = fn(claim, &error);

        cJSON *report = cJSON_CreateObject();
        cJSON_AddStringToObject(report, "task_uuid", task_uuid);
        cJSON_AddStringToObject(report, "step_uuid", step_uuid);
        cJSON_AddStringToObject(report, "claim_token", token);
        if (result) {
            cJSON_AddItemToObject(report, "result", cJSON_Parse(result));
            printf("  step %-18s attempt %d: complete %s\n", step_name, attempt, result);
        } else {
            cJSON *e = cJSON_AddObjectToObject(report, "error");
            cJSON_AddStringToObject(e, "message", error);
            cJSON_AddStringToObject(e, "error_type", "HandlerError");
            printf("  step %-18s attempt %d: failed (%s)\n", step_name, attempt, error);
        }
        char *text = cJSON_PrintUnformatted(report);
        cJSON_Delete(outcome);
        cJSON *answer = call(result ? tasker_step_complete : tasker_step_fail, engine, text); /* {"claims", "outcome"} */
        free(text);
        free(result);
        cJSON_Delete(report);
        if (!answer) return NULL;
        outcome = cJSON_DetachItemFromObject(answer, "outcome");
        cJSON_Delete(answer);
    }
    return outcome;
}

int main(void) {
    printf("libtasker %s (ABI %u)\n", tasker_version(), tasker_abi_version());
    if (tasker_abi_version() != TASKER_ABI_VERSION) {
        fprintf(stderr, "libtasker ABI %u does not match this header's %d\n", tasker_abi_version(), TASKER_ABI_VERSION);
        return 1;
    }

    tasker_engine_t *engine = NULL;
    tasker_error_t *err = tasker_engine_open(NULL, 0, &engine); /* {}: the embedded memory store */
    if (err) return fail(err);

    char *yaml = read_file(TASKER_TEMPLATE_DIR "/order_fulfillment.yaml");
    if (!yaml) {
        fprintf(stderr, "cannot read %s\n", TASKER_TEMPLATE_DIR "/order_fulfillment.yaml");
        return 1;
    }
    cJSON *template = call(tasker_template_register, engine, yaml);
    free(yaml);
    if (!template) return 1;
    printf("registered %s/%s@%s\n", cJSON_GetObjectItem(template, "namespace")->valuestring,
           cJSON_GetObjectItem(template, "name")->valuestring, cJSON_GetObjectItem(template, "version")->valuestring);
    cJSON_Delete(template);

    cJSON *created = call(tasker_task_create, engine,
                          "{\"namespace\": \"fulfillment\", \"name\": \"order_fulfillment\", \"initiator\": \"examples/c\","
                          " \"context\": {\"order\": {\"id\": 1001, \"total\": 59.90, \"items\": [{\"sku\": \"TSK-1\", \"quantity\": 2}]}}}");
    if (!created) return 1;
    char task_uuid[64];
    snprintf(task_uuid, sizeof task_uuid, "%s", cJSON_GetObjectItem(cJSON_GetObjectItem(created, "task"), "task_uuid")->valuestring);
    cJSON_Delete(created);
    printf("created task %s\n", task_uuid);

    /* The claim names the handlers this program has: steps of any other handler would wait for another worker. */
    char request[256];
    snprintf(request, sizeof request,
             "{\"task_uuid\": \"%s\", \"worker_id\": \"examples/c\", "
             "\"handlers\": [\"ValidateOrder\", \"ReserveInventory\", \"ProcessPayment\", \"ShipOrder\"]}", task_uuid);
    cJSON *outcome = call(tasker_task_evaluate, engine, task_uuid);
    while (outcome) {
        const char *action = cJSON_GetObjectItem(outcome, "action")->valuestring;
        if (strcmp(action, "execute") == 0) {
            cJSON *claimed = call(tasker_steps_claim, engine, request);
            if (!claimed) break;
            cJSON_Delete(outcome);
            outcome = run_claims(engine, task_uuid, claimed);
            cJSON_Delete(claimed);
        } else if (strcmp(action, "reenqueue") == 0) {
            /* A queue-driven host would re-enqueue the task with this delay instead of sleeping. */
            double delay = cJSON_GetObjectItem(outcome, "delay_seconds")->valuedouble;
            printf("  waiting %.2fs before retrying\n", delay);
            sleep_seconds(delay);
            cJSON_Delete(outcome);
            outcome = call(tasker_task_evaluate, engine, task_uuid);
        } else {
            break;
        }
    }
    if (!outcome) return 1;

    cJSON *task = call(tasker_task_get, engine, task_uuid);
    const char *state = task ? cJSON_GetObjectItem(task, "state")->valuestring : "unknown";
    printf("task %s\n", state);
    int status = task && strcmp(state, "complete") == 0 ? 0 : 1;
    cJSON_Delete(task);
    cJSON_Delete(outcome);

    err = tasker_engine_close(engine);
    if (err) return fail(err);
    return status;
}
