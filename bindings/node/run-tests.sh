#!/usr/bin/env bash
# The Node binding's tests, as ./build.sh test runs them (node --test; koffi and bullmq from npm).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${TASKER_LIBRARY_PATH:?set TASKER_LIBRARY_PATH to libtasker.so (./build.sh native)}"
# `npm install` honours package-lock.json; `npm ci` refuses this lockfile because npm 11 records no entries for
# other platforms' optional packages (msgpackr-extract).
[ -d node_modules/koffi ] || npm install --no-audit --no-fund --loglevel=error
exec node --test --test-concurrency=1 "${@:-test/}"
