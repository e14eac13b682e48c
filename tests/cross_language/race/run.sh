#!/usr/bin/env bash
# Worker processes of two languages racing for the same steps on one PostgreSQL (issue 13): two Python and two Ruby
# workers, each able to run every step, N tasks of a 5-step DAG (default 200). Then the audit trail must show every
# step run once per attempt, every task finalized once, each task's history contiguous, and both languages at work.
#
#   DATABASE_URL=postgres://... TASKER_LIBRARY_PATH=.../libtasker.so tests/cross_language/race/run.sh [tasks]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root=$(cd ../../.. && pwd)
tasks=${1:-200}
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL database}"
: "${TASKER_LIBRARY_PATH:?set TASKER_LIBRARY_PATH to libtasker.so (./build.sh native)}"
export DATABASE_URL TASKER_LIBRARY_PATH TASKER_SCHEMA="race_$$"
export PYTHONPATH=$root/bindings/python/src:$PWD${PYTHONPATH:+:$PYTHONPATH}
sql() { PGOPTIONS="-c search_path=$TASKER_SCHEMA" psql "$DATABASE_URL" -X -Atq -v ON_ERROR_STOP=1 "$@"; }
logs=$(mktemp -d)
pids=()
finish() {
  [ ${#pids[@]} -eq 0 ] || kill -TERM "${pids[@]}" 2>/dev/null || true
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$DATABASE_URL" -X -qc "DROP SCHEMA IF EXISTS $TASKER_SCHEMA CASCADE" >/dev/null 2>&1 || true
  rm -rf "$logs"
}
trap finish EXIT

# The schema first, so the four workers do not all wait on the migration lock at once.
/usr/bin/python3 -c 'import race_python; race_python.make_engine().close()'
for n in 1 2; do
  /usr/bin/python3 -m tasker worker race_python:make_engine --concurrency 4 >"$logs/python$n.log" 2>&1 & pids+=($!)
  ruby -I "$root/bindings/ruby/lib" "$root/bindings/ruby/bin/tasker-worker" --config race_worker.yml >"$logs/ruby$n.log" 2>&1 & pids+=($!)
done
/usr/bin/python3 race_python.py create "$tasks" >"$logs/uuids"
echo "race: $(wc -l <"$logs/uuids") tasks of 5 steps, 2 Python and 2 Ruby worker processes (${pids[*]})"

for _ in $(seq 1 240); do
  left=$(sql -c "SELECT count(*) FROM tasker_tasks WHERE state <> 'complete'")
  [ "$left" = 0 ] && break
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "race: a worker exited early:"; tail -n 20 "$logs"/*.log; exit 1; }
  done
  sleep 0.5
done

report=$(sql -f check.sql)
violations=$(grep -v '^ran: ' <<<"$report" || true)
ran=$(grep '^ran: ' <<<"$report" || true)
if [ -n "$violations" ]; then
  echo "race: FAILED"; head -n 20 <<<"$violations"; tail -n 20 "$logs"/*.log; exit 1
fi
if ! grep -q 'python [1-9]' <<<"$ran" || ! grep -q 'ruby [1-9]' <<<"$ran"; then
  echo "race: FAILED: both languages should have run steps ($ran)"; exit 1
fi
echo "race: ok: every step once per attempt, every task finalized once, audit trails contiguous; $ran"
