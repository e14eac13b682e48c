// Compiled with -std=c++17 -Wall -Wextra -Wpedantic -Werror: the header must stay clean C++.
#include "tasker.h"

int tasker_header_cxx_check();
int tasker_header_cxx_check() { return TASKER_ABI_VERSION + static_cast<int>(TASKER_ERROR_ABI_MISMATCH); }
