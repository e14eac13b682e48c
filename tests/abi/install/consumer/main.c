/* The smallest host: open an engine, register a one-step template, run its step, check the task completed. */
#include <stdio.h>
#include <string.h>

#include <tasker.h>

static int failed(tasker_error_t *err) {
    fprintf(stderr, "tasker error %d: %s\n", tasker_error_code(err), tasker_error_message(err));
    tasker_error_free(err);
    return 1;
}

/* The value of "key": "..." in a JSON text (enough for uuids and tokens, which need no escaping). */
static void field(const tasker_bytes_t *json, const char *key, char *value, size_t size) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *start = strstr((const char *)json->data, pattern);
    value[0] = '\0';
    if (start) {
        start += strlen(pattern);
        size_t len = (size_t)(strchr(start, '"') - start);
        snprintf(value, size, "%.*s", (int)(len < size ? len : size - 1), start);
    }
}

#define CALL(fn, engine, text, out)                                                      \
    do {                                                                                 \
        tasker_error_t *e_ = fn((engine), (const uint8_t *)(text), strlen(text), (out)); \
        if (e_) return failed(e_);                                                       \
    } while (0)

int main(void) {
    if (tasker_abi_version() != TASKER_ABI_VERSION) return 1;
    tasker_engine_t *engine = NULL;
    tasker_error_t *err = tasker_engine_open(NULL, 0, &engine);
    if (err) return failed(err);

    tasker_bytes_t out = {NULL, 0};
    CALL(tasker_template_register, engine,
         "{\"name\": \"hello\", \"namespace_name\": \"consumer\", \"version\": \"1.0.0\","
         " \"steps\": [{\"name\": \"greet\", \"handler\": {\"callable\": \"Greet\"}}]}", &out);
    tasker_bytes_free(&out);
    CALL(tasker_task_create, engine, "{\"namespace\": \"consumer\", \"name\": \"hello\"}", &out);
    char task[64], step[64], token[128], request[512];
    field(&out, "task_uuid", task, sizeof task);
    tasker_bytes_free(&out);

    snprintf(request, sizeof request, "{\"task_uuid\": \"%s\"}", task);
    CALL(tasker_steps_claim, engine, request, &out);
    field(&out, "step_uuid", step, sizeof step);
    field(&out, "claim_token", token, sizeof token);
    tasker_bytes_free(&out);

    snprintf(request, sizeof request,
             "{\"task_uuid\": \"%s\", \"step_uuid\": \"%s\", \"claim_token\": \"%s\", \"result\": \"hello\"}", task, step, token);
    CALL(tasker_step_complete, engine, request, &out);
    int complete = strstr((const char *)out.data, "\"action\":\"complete\"") != NULL;
    tasker_bytes_free(&out);

    err = tasker_engine_close(engine);
    if (err) return failed(err);
    printf("libtasker %s: task %s %s\n", tasker_version(), task, complete ? "complete" : "NOT complete");
    return complete ? 0 : 1;
}
