/*
 * Many threads drive one engine at once through the ABI: every step runs exactly once and every task finalizes
 * exactly once. Each worker loops over all tasks claiming one step at a time, so workers constantly race for the
 * same tasks. Then one engine is freed while other threads are inside calls on it.
 * Usage: test_threads [memory|postgres]
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>

#include "support.h"

enum { TASKS = 50, STEPS = 7, THREADS = 8 };

static const char *MIXED =
    "name: mixed\nnamespace_name: threads\nversion: 1.0.0\nsteps:\n"
    "  - name: init\n    handler: { callable: H }\n"
    "  - name: left\n    handler: { callable: H }\n    dependencies: [init]\n"
    "  - name: right\n    handler: { callable: H }\n    dependencies: [init]\n"
    "  - name: validate\n    handler: { callable: H }\n    dependencies: [left, right]\n"
    "  - name: transform\n    handler: { callable: H }\n    dependencies: [left]\n"
    "  - name: analyze\n    handler: { callable: H }\n    dependencies: [right]\n"
    "  - name: finalize\n    handler: { callable: H }\n    dependencies: [validate, transform, analyze]\n";

static tasker_engine_t *engine;
static char uuids[TASKS][64];
static int executions[TASKS];
static int finalized[TASKS];
static pthread_mutex_t counts = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
    (void)arg;
    int idle = 0;
    while (idle < 3) {
        int progressed = 0;
        for (int t = 0; t < TASKS; t++) {
            char request[160];
            snprintf(request, sizeof request, "{\"task_uuid\": \"%s\", \"max_steps\": 1}", uuids[t]);
            cJSON *claimed = CALL_OK(tasker_steps_claim, engine, request);
            const cJSON *claim;
            cJSON_ArrayForEach(claim, cJSON_GetObjectItem(claimed, "claims")) {
                char report[512];
                snprintf(report, sizeof report,
                         "{\"task_uuid\": \"%s\", \"step_uuid\": \"%s\", \"claim_token\": \"%s\", \"result\": true}", uuids[t],
                         str(cJSON_GetObjectItem(claim, "step"), "step_uuid"), str(claim, "claim_token"));
                cJSON *answer = CALL_OK(tasker_step_complete, engine, report);
                pthread_mutex_lock(&counts);
                executions[t]++;
                if (cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(answer, "outcome"), "finalized"))) finalized[t]++;
                pthread_mutex_unlock(&counts);
                cJSON_Delete(answer);
                progressed = 1;
            }
            cJSON_Delete(claimed);
        }
        idle = progressed ? 0 : idle + 1;
    }
    return NULL;
}

/* Calls on `engine` until one fails; records the code of that failure. */
static void *use_until_freed(void *arg) {
    int *code = arg;
    for (;;) {
        tasker_bytes_t out = {NULL, 0};
        tasker_error_t *err = tasker_task_list(engine, (const uint8_t *)"{\"limit\": 5}", 12, &out);
        tasker_bytes_free(&out);
        if (err) {
            *code = tasker_error_code(err);
            tasker_error_free(err);
            return NULL;
        }
    }
}

/* Freeing an engine while other threads are inside calls on it: no crash, and every thread ends up told the handle
 * is gone (a call already inside the engine may also fail with another error, e.g. on a closed pool). */
static void free_while_in_use(void) {
    enum { USERS = 4 };
    engine = open_engine("{}");
    cJSON_Delete(CALL_OK(tasker_template_register, engine, MIXED));
    pthread_t threads[USERS];
    int codes[USERS] = {0};
    for (int i = 0; i < USERS; i++) pthread_create(&threads[i], NULL, use_until_freed, &codes[i]);
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CHECK(tasker_engine_close(engine) == NULL);
    for (int i = 0; i < USERS; i++) {
        pthread_join(threads[i], NULL);
        CHECK(codes[i] == TASKER_ERROR_INVALID_HANDLE || codes[i] == TASKER_ERROR_DATABASE);
    }
}

int main(int argc, char **argv) {
    int status = use_store(argc > 1 ? argv[1] : "memory");
    if (status) return status;
    engine = open_engine("{}");
    cJSON_Delete(CALL_OK(tasker_template_register, engine, MIXED));
    for (int t = 0; t < TASKS; t++) {
        cJSON *created = CALL_OK(tasker_task_create, engine, "{\"namespace\": \"threads\", \"name\": \"mixed\"}");
        snprintf(uuids[t], sizeof uuids[t], "%s", str(cJSON_GetObjectItem(created, "task"), "task_uuid"));
        cJSON_Delete(created);
    }
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);

    for (int t = 0; t < TASKS; t++) {
        CHECK(executions[t] == STEPS);
        CHECK(finalized[t] == 1);
        cJSON *task = CALL_OK(tasker_task_get, engine, uuids[t]);
        CHECK(strcmp(str(task, "state"), "complete") == 0);
        cJSON_Delete(task);
    }
    CHECK(tasker_engine_close(engine) == NULL);
    free_while_in_use();
    printf("%s: %d threads, %d tasks x %d steps: %s\n", test_store, THREADS, TASKS, STEPS,
           test_failures ? "FAILED" : "each step once, each task finalized once");
    return test_failures ? 1 : 0;
}
