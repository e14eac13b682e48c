/*
 * C bench driver for libtasker. Prints:
 *   - library load + engine open time (dlopen + tasker_engine_open, median of fresh processes is taken by the
 *     caller; this process measures its own first load),
 *   - per-step cost of claim + complete of no-op steps through the ABI (JSON in, JSON out, parsing skipped),
 *   - resident memory after N completed tasks with retention on.
 * Usage: bench_abi <libtasker.so> [tasks]
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tasker.h"

typedef tasker_error_t *(*json_fn)(tasker_engine_t *, const uint8_t *, size_t, tasker_bytes_t *);

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}

/* Finds `"key": "` in json and copies the string value. */
static void field(const uint8_t *json, const char *key, char *out, size_t size) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *at = strstr((const char *)json, pattern);
    if (!at) { out[0] = 0; return; }
    at += strlen(pattern);
    size_t n = strcspn(at, "\"");
    if (n >= size) n = size - 1;
    memcpy(out, at, n);
    out[n] = 0;
}

#define LOAD(name) name##_fn = (__typeof__(name##_fn))dlsym(lib, #name)

static tasker_error_t *(*tasker_engine_open_fn)(const uint8_t *, size_t, tasker_engine_t **);
static void (*tasker_engine_free_fn)(tasker_engine_t *);
static json_fn tasker_template_register_fn, tasker_task_create_fn, tasker_steps_claim_fn, tasker_step_complete_fn;
static void (*tasker_bytes_free_fn)(tasker_bytes_t *);

static const char *TEMPLATE =
    "name: noop\nnamespace_name: bench\nversion: 1.0.0\nsteps:\n"
    "  - name: s0\n    handler: { callable: Noop }\n"
    "  - name: s1\n    handler: { callable: Noop }\n"
    "  - name: s2\n    handler: { callable: Noop }\n"
    "  - name: s3\n    handler: { callable: Noop }\n    dependencies: [s0]\n"
    "  - name: s4\n    handler: { callable: Noop }\n    dependencies: [s1]\n"
    "  - name: s5\n    handler: { callable: Noop }\n    dependencies: [s2]\n"
    "  - name: s6\n    handler: { callable: Noop }\n    dependencies: [s3, s4]\n"
    "  - name: s7\n    handler: { callable: Noop }\n    dependencies: [s5, s6]\n";

static int call(json_fn fn, tasker_engine_t *engine, const char *in, tasker_bytes_t *out) {
    tasker_error_t *err = fn(engine, (const uint8_t *)in, strlen(in), out);
    if (err) { fprintf(stderr, "error\n"); exit(1); }
    return 0;
}

/* How a loop gets its next step: a claim call after each completion (the binding's worst case), or the completion's
 * claim_next (protocol v2: one crossing per step), whole or lean (the task's fields and the outcome left out, as the
 * bindings' loops ask for it). */
enum next_step { CLAIM_CALL, CLAIM_NEXT, CLAIM_NEXT_LEAN };

static const char *const CLAIM_NEXT_FIELD[] = {
    [CLAIM_CALL] = "",
    [CLAIM_NEXT] = ",\"claim_next\":{\"max_steps\":1}",
    [CLAIM_NEXT_LEAN] = ",\"claim_next\":{\"max_steps\":1,\"lean\":true}",
};

/* Runs `tasks` 8-step tasks, one step claimed at a time; returns steps executed. */
static long run(tasker_engine_t *engine, long tasks, enum next_step next) {
    long steps = 0;
    for (long t = 0; t < tasks; t++) {
        tasker_bytes_t out = {0};
        call(tasker_task_create_fn, engine, "{\"namespace\":\"bench\",\"name\":\"noop\"}", &out);
        char task[40], request[128];
        field(out.data, "task_uuid", task, sizeof task);
        tasker_bytes_free_fn(&out);
        snprintf(request, sizeof request, "{\"task_uuid\":\"%s\",\"max_steps\":1}", task);
        call(tasker_steps_claim_fn, engine, request, &out);
        for (;;) {
            char step[40], token[40], report[320];
            field(out.data, "step_uuid", step, sizeof step);
            field(out.data, "claim_token", token, sizeof token);
            tasker_bytes_free_fn(&out);
            if (!step[0]) break;
            snprintf(report, sizeof report, "{\"task_uuid\":\"%s\",\"step_uuid\":\"%s\",\"claim_token\":\"%s\",\"result\":null%s}",
                     task, step, token, CLAIM_NEXT_FIELD[next]);
            call(tasker_step_complete_fn, engine, report, &out);
            if (next == CLAIM_CALL) {
                tasker_bytes_free_fn(&out);
                call(tasker_steps_claim_fn, engine, request, &out);
            }
            steps++;
        }
    }
    return steps;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s <libtasker.so> [tasks]\n", argv[0]); return 2; }
    long tasks = argc > 2 ? atol(argv[2]) : 100000;

    double t0 = now_ms();
    void *lib = dlopen(argv[1], RTLD_NOW);
    if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    LOAD(tasker_engine_open); LOAD(tasker_engine_free); LOAD(tasker_template_register); LOAD(tasker_task_create);
    LOAD(tasker_steps_claim); LOAD(tasker_step_complete); LOAD(tasker_bytes_free);
    tasker_engine_t *engine = NULL;
    const char *config = "{\"retention\":{\"max_finished_tasks\":1000}}";
    if (tasker_engine_open_fn((const uint8_t *)config, strlen(config), &engine)) { fprintf(stderr, "open failed\n"); return 1; }
    double t1 = now_ms();
    printf("load + open:            %.2f ms\n", t1 - t0);

    tasker_bytes_t out = {0};
    call(tasker_template_register_fn, engine, TEMPLATE, &out);
    tasker_bytes_free_fn(&out);

    for (int next = CLAIM_CALL; next <= CLAIM_NEXT_LEAN; next++) run(engine, 2000, next); /* warm-up */
    long rss_before = rss_kb();
    static const char *const LABEL[] = {
        [CLAIM_CALL] = "claim + complete",
        [CLAIM_NEXT] = "complete with claim_next",
        [CLAIM_NEXT_LEAN] = "complete with lean claim_next",
    };
    printf("tasks:                  %ld per loop (8 no-op steps each, one step per claim)\n", tasks);
    for (int next = CLAIM_CALL; next <= CLAIM_NEXT_LEAN; next++) {
        double start = now_ms();
        long steps = run(engine, tasks, next);
        double elapsed = now_ms() - start;
        printf("per step (create/8 + %s): %.2f us (%.0f steps/s)\n", LABEL[next], elapsed * 1e3 / steps,
               steps / (elapsed / 1e3));
    }
    printf("RSS after warm-up:      %.1f MB\n", rss_before / 1024.0);
    printf("RSS after %ld tasks: %.1f MB (retention: 1000 finished tasks)\n", 3 * tasks, rss_kb() / 1024.0);
    tasker_engine_free_fn(engine);
    return 0;
}
