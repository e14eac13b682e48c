#!/usr/bin/env bash
# Cross-language tests on PostgreSQL, as ./build.sh test runs them: Python and Ruby processes share one task.
# Needs TASKER_LIBRARY_PATH and TASKER_TEST_DATABASE_URL (never skipped silently: it fails without them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${TASKER_LIBRARY_PATH:?set TASKER_LIBRARY_PATH to libtasker.so (./build.sh native)}"
: "${TASKER_TEST_DATABASE_URL:?set TASKER_TEST_DATABASE_URL (./build.sh test starts a throwaway PostgreSQL)}"
/usr/bin/python3 two_languages.py
