/* Small helpers shared by the C ABI tests: checks that report the line, JSON calls, and error expectations. */
#ifndef TASKER_TEST_SUPPORT_H
#define TASKER_TEST_SUPPORT_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasker.h"

extern int test_failures;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
            test_failures++;                                                          \
        }                                                                             \
    } while (0)

typedef tasker_error_t *(*json_call)(tasker_engine_t *, const uint8_t *, size_t, tasker_bytes_t *);

/* Calls fn with `input`; on success returns the parsed output (caller frees), on error prints it and returns NULL. */
cJSON *call_ok(json_call fn, tasker_engine_t *engine, const char *input, const char *where);

/* Calls fn with `len` bytes of `input` and expects error `code`; frees everything; returns 1 when it matched. */
int call_fails(json_call fn, tasker_engine_t *engine, const char *input, size_t len, int code, const char *where);

/* Checks that err is an error with `code` and frees it. */
int expect_error(tasker_error_t *err, int code, const char *where);

/*
 * The store every test of this process runs against: "memory" (the default) or "postgres", which uses
 * TASKER_TEST_DATABASE_URL with a fresh schema per engine. use_store() returns 0 to go on, 77 (CTest's "skipped")
 * when postgres is asked for without the variable, 2 for an unknown store.
 */
extern const char *test_store;
int use_store(const char *store);

/* Opens an engine with `config` (a JSON object) on the selected store; exits the test on failure. */
tasker_engine_t *open_engine(const char *config);
char *read_file(const char *path);
const char *str(const cJSON *obj, const char *key);

#define CALL_OK(fn, engine, input) call_ok((json_call)(fn), (engine), (input), __FILE__ ":" TASKER_STR(__LINE__))
#define CALL_FAILS(fn, engine, input, code) \
    CHECK(call_fails((json_call)(fn), (engine), (input), strlen(input), (code), __FILE__ ":" TASKER_STR(__LINE__)))
#define EXPECT_ERROR(expr, code) CHECK(expect_error((expr), (code), __FILE__ ":" TASKER_STR(__LINE__)))
#define TASKER_STR2(x) #x
#define TASKER_STR(x) TASKER_STR2(x)

#endif
