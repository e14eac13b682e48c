#!/usr/bin/env bash
# Cross-language tests on PostgreSQL, as ./build.sh test runs them: Python and Ruby processes share one task (queue
# mode), then Python, Ruby and Node worker processes share 30 (worker mode), then two Python and two Ruby worker
# processes race for every step of 200 tasks (race/).
# Needs TASKER_LIBRARY_PATH and TASKER_TEST_DATABASE_URL (never skipped silently: it fails without them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${TASKER_LIBRARY_PATH:?set TASKER_LIBRARY_PATH to libtasker.so (./build.sh native)}"
: "${TASKER_TEST_DATABASE_URL:?set TASKER_TEST_DATABASE_URL (./build.sh test starts a throwaway PostgreSQL)}"
/usr/bin/python3 two_languages.py
# The Node worker needs koffi (the Node suite installs it first; this keeps the suite runnable on its own).
[ -d ../../bindings/node/node_modules/koffi ] || (cd ../../bindings/node && npm ci --no-audit --no-fund --loglevel=error)
# Worker mode: Python, Ruby and Node worker processes run the polyglot order flow (examples/polyglot).
DATABASE_URL=$TASKER_TEST_DATABASE_URL TASKER_SCHEMA="polyglot_$$" ../../examples/polyglot/run.sh 30
# Worker mode, racing: every worker can run every step; the audit trail must show each step once per attempt.
DATABASE_URL=$TASKER_TEST_DATABASE_URL race/run.sh 200
