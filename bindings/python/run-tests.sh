#!/usr/bin/env bash
# The Python binding's tests, as ./build.sh test runs them: Debian's python3 and pytest, the library from
# TASKER_LIBRARY_PATH, PostgreSQL from TASKER_TEST_DATABASE_URL and Redis from TASKER_TEST_REDIS_URL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${TASKER_LIBRARY_PATH:?set TASKER_LIBRARY_PATH to libtasker.so (./build.sh native)}"
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "${@:-tests}"
