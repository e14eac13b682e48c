/*
 * Compiled by the abi.header.c* tests with -std=c99/c11/c17 -Wall -Wextra -Wpedantic -Werror: the header must stay
 * clean C. It uses every kind of declaration the header makes (types, enum constants, macros, a function pointer).
 */
#include "tasker.h"

int tasker_header_check(void);
int tasker_header_check(void) {
    tasker_bytes_t bytes = {NULL, 0};
    tasker_error_code_t code = TASKER_ERROR_ABI_MISMATCH;
    tasker_error_t *(*open)(const uint8_t *, size_t, tasker_engine_t **) = tasker_engine_open;
    (void)open;
    return (int)bytes.len + (int)code + TASKER_ABI_VERSION + TASKER_VERSION_MAJOR + (int)sizeof TASKER_VERSION +
           (int)(TASKER_MAX_INPUT_BYTES > 0);
}
