#!/usr/bin/env bash
# The dashboard's browser test, as ./build.sh test runs it: seeds a failed task through the Python binding
# (TASKER_LIBRARY_PATH), serves it with the published `tasker dashboard` (NativeAOT), and drives Debian's headless
# Chromium over it with playwright-core (npm ci here; it never downloads a browser).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root=$(cd ../.. && pwd)
: "${TASKER_TEST_DATABASE_URL:?set TASKER_TEST_DATABASE_URL (scripts/pg-test-cluster.sh start)}"
: "${TASKER_LIBRARY_PATH:?set TASKER_LIBRARY_PATH to libtasker.so (./build.sh native)}"
tasker=${TASKER_CLI:-$root/artifacts/bin/${TASKER_RID:-linux-x64}/tasker}
[ -x "$tasker" ] || { echo "browser test: $tasker is missing (./build.sh cli)" >&2; exit 1; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "browser test: ${CHROMIUM:-/usr/bin/chromium} is missing (scripts/deps.sh installs chromium)" >&2; exit 1; }
[ -d node_modules/playwright-core ] || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error

schema=tasker_browser_$$
token=browser-test-token-$RANDOM$RANDOM
dashboard_pid=
cleanup() {
  [ -z "$dashboard_pid" ] || kill "$dashboard_pid" 2>/dev/null || true
  /usr/bin/python3 - "$TASKER_TEST_DATABASE_URL" "$schema" <<'PY' || true
import subprocess, sys
subprocess.run(["psql", sys.argv[1], "-qc", f"DROP SCHEMA IF EXISTS {sys.argv[2]} CASCADE"], check=False,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"PATH": "/usr/lib/postgresql/15/bin:/usr/bin:/bin"})
PY
}
trap cleanup EXIT

task=$(PYTHONPATH=$root/bindings/python/src /usr/bin/python3 seed.py "$TASKER_TEST_DATABASE_URL" "$schema")
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$root/artifacts/screenshots/dashboard.log
mkdir -p "$(dirname "$log")"
"$tasker" dashboard --port "$port" --token "$token" --database-url "$TASKER_TEST_DATABASE_URL" --schema "$schema" >"$log" 2>&1 &
dashboard_pid=$!
for _ in $(seq 1 100); do
  grep -q "tasker dashboard on" "$log" && break
  kill -0 "$dashboard_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
node dashboard.test.js "http://127.0.0.1:$port" "$task" "$token"
