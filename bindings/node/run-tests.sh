#!/usr/bin/env bash
# The Node binding's tests, as ./build.sh test runs them (node --test; koffi and bullmq from npm).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${TASKER_LIBRARY_PATH:?set TASKER_LIBRARY_PATH to libtasker.so (./build.sh native)}"
[ -d node_modules/koffi ] || npm ci --no-audit --no-fund --silent
exec node --test --test-concurrency=1 "${@:-test/}"
