/* Compiled with -std=c11 -Wall -Wextra -Wpedantic -Werror: the header must stay clean C. */
#include "tasker.h"

int tasker_header_c11_check(void);
int tasker_header_c11_check(void) { return TASKER_ABI_VERSION + TASKER_ERROR_ABI_MISMATCH; }
