// Compiled by the abi.header.c++* tests with -std=c++11/17/20 -Wall -Wextra -Wpedantic -Werror: the header must
// stay clean C++, with C linkage for every function.
#include "tasker.h"

int tasker_header_check();
int tasker_header_check() {
    tasker_bytes_t bytes = {nullptr, 0};
    tasker_error_code_t code = TASKER_ERROR_ABI_MISMATCH;
    tasker_error_t *(*open)(const uint8_t *, size_t, tasker_engine_t **) = tasker_engine_open;
    static_cast<void>(open);
    return static_cast<int>(bytes.len) + static_cast<int>(code) + TASKER_ABI_VERSION + TASKER_VERSION_MAJOR +
           static_cast<int>(sizeof TASKER_VERSION) + static_cast<int>(TASKER_MAX_INPUT_BYTES > 0);
}
