#define _DEFAULT_SOURCE
#include <unistd.h>

#include "support.h"

int test_failures = 0;
const char *test_store = "memory";

int use_store(const char *store) {
    if (strcmp(store, "memory") != 0 && strcmp(store, "postgres") != 0) {
        fprintf(stderr, "unknown store %s (memory or postgres)\n", store);
        return 2;
    }
    if (strcmp(store, "postgres") == 0 && !getenv("TASKER_TEST_DATABASE_URL")) {
        printf("skipped: TASKER_TEST_DATABASE_URL is not set\n");
        return 77;
    }
    test_store = store;
    return 0;
}

/* `config` plus, for PostgreSQL, the database URL and a schema no other engine of any run has used. */
static char *store_config(const char *config) {
    cJSON *json = cJSON_Parse(config);
    if (!cJSON_IsObject(json)) {
        fprintf(stderr, "test bug: engine config %s is not a JSON object\n", config);
        exit(1);
    }
    if (strcmp(test_store, "postgres") == 0) {
        static int engines = 0;
        char schema[64];
        snprintf(schema, sizeof schema, "abi_%d_%d", (int)getpid(), ++engines);
        cJSON_AddStringToObject(json, "database_url", getenv("TASKER_TEST_DATABASE_URL"));
        cJSON_AddStringToObject(json, "schema", schema);
    }
    char *text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    return text;
}

cJSON *call_ok(json_call fn, tasker_engine_t *engine, const char *input, const char *where) {
    tasker_bytes_t out = {NULL, 0};
    tasker_error_t *err = fn(engine, (const uint8_t *)input, input ? strlen(input) : 0, &out);
    if (err) {
        fprintf(stderr, "%s: unexpected error %d: %s\n", where, tasker_error_code(err), tasker_error_message(err));
        tasker_error_free(err);
        test_failures++;
        return NULL;
    }
    cJSON *json = cJSON_ParseWithLength((const char *)out.data, out.len);
    if (!json || out.data[out.len] != '\0') {
        fprintf(stderr, "%s: output is not NUL-terminated JSON\n", where);
        test_failures++;
    }
    tasker_bytes_free(&out);
    return json;
}

int expect_error(tasker_error_t *err, int code, const char *where) {
    if (!err) {
        fprintf(stderr, "%s: expected error %d, got success\n", where, code);
        return 0;
    }
    int actual = tasker_error_code(err);
    const char *message = tasker_error_message(err);
    int ok = actual == code && message && message[0] != '\0';
    if (!ok) fprintf(stderr, "%s: expected error %d, got %d: %s\n", where, code, actual, message);
    tasker_error_free(err);
    return ok;
}

int call_fails(json_call fn, tasker_engine_t *engine, const char *input, size_t len, int code, const char *where) {
    tasker_bytes_t out = {NULL, 0};
    tasker_error_t *err = fn(engine, (const uint8_t *)input, len, &out);
    int ok = expect_error(err, code, where);
    if (out.data != NULL) {
        fprintf(stderr, "%s: a failed call left output behind\n", where);
        ok = 0;
    }
    tasker_bytes_free(&out);
    return ok;
}

tasker_engine_t *open_engine(const char *config) {
    char *text = store_config(config);
    tasker_engine_t *engine = NULL;
    tasker_error_t *err = tasker_engine_open((const uint8_t *)text, strlen(text), &engine);
    if (err) {
        fprintf(stderr, "engine_open(%s): %s\n", config, tasker_error_message(err));
        tasker_error_free(err);
        exit(1);
    }
    free(text);
    return engine;
}

char *read_file(const char *path) {
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

const char *str(const cJSON *obj, const char *key) {
    const cJSON *item = cJSON_GetObjectItem(obj, key);
    return cJSON_IsString(item) ? item->valuestring : "";
}
