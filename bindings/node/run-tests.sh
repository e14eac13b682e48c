#!/usr/bin/env bash
# The Node binding's tests, as ./build.sh test runs them: node --test over test/*.test.js.
#
#   TASKER_LIBRARY_PATH        the built libtasker.so (required)
#   TASKER_TEST_DATABASE_URL   a throwaway PostgreSQL database: the PostgreSQL-mode tests (skipped, saying so, without)
#   TASKER_TEST_REDIS_URL      a throwaway Redis: the BullMQ and Bull tests (skipped, saying so, without)
#
# Extra arguments are passed to node --test (e.g. a single file, or --test-name-pattern=...).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

: "${TASKER_LIBRARY_PATH:?set TASKER_LIBRARY_PATH to libtasker.so (./build.sh native builds it)}"
[ -f "$TASKER_LIBRARY_PATH" ] || { echo "run-tests.sh: $TASKER_LIBRARY_PATH does not exist" >&2; exit 1; }
command -v node >/dev/null || { echo "run-tests.sh: node is not installed (Node 20 or newer is needed)" >&2; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  { echo "run-tests.sh: node $(node --version) is too old: the binding needs Node 20 or newer" >&2; exit 1; }

# node_modules is not committed. `npm ci` installs exactly what package-lock.json pins and never rewrites it (the
# lock file carries every platform's optional packages, as `npm install` writes it, so both leave it unchanged).
if [ ! -d node_modules/koffi ] || [ ! -d node_modules/bullmq ] || [ ! -d node_modules/bull ] || [ ! -d node_modules/typescript ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ -z "${TASKER_TEST_DATABASE_URL:-}" ]; then echo "run-tests.sh: TASKER_TEST_DATABASE_URL is not set: PostgreSQL tests will be skipped"; fi
if [ -z "${TASKER_TEST_REDIS_URL:-}" ]; then echo "run-tests.sh: TASKER_TEST_REDIS_URL is not set: queue tests will be skipped"; fi

if [ $# -gt 0 ]; then
  exec node --test --test-concurrency=1 "$@"
fi
exec node --test --test-concurrency=1 test/*.test.js
