#!/usr/bin/env bash
# The polyglot order flow: one Python, one Ruby and one Node worker on one PostgreSQL database run N orders whose
# steps are split between the three languages, then check every step ran once, in the language of its handler.
#
#   DATABASE_URL=postgres://... TASKER_LIBRARY_PATH=.../libtasker.so examples/polyglot/run.sh [orders]
#
# From a checkout (./build.sh native; node_modules of bindings/node installed). TASKER_SCHEMA picks the schema
# (default "polyglot"). Exits non-zero when an order does not complete in time or a step ran in the wrong place.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root=$(cd ../.. && pwd)
orders=${1:-10}
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL database (scripts/pg-test-cluster.sh start gives one)}"
: "${TASKER_LIBRARY_PATH:?set TASKER_LIBRARY_PATH to libtasker.so (./build.sh native)}"
export DATABASE_URL TASKER_LIBRARY_PATH TASKER_SCHEMA=${TASKER_SCHEMA:-polyglot}
export PYTHONPATH=$root/bindings/python/src:$PWD${PYTHONPATH:+:$PYTHONPATH}
logs=$(mktemp -d)
pids=()
stop_workers() {
  [ ${#pids[@]} -eq 0 ] || kill -TERM "${pids[@]}" 2>/dev/null || true
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop_workers; rm -rf "$logs"' EXIT

/usr/bin/python3 -m tasker worker python_side:make_engine --concurrency 4 >"$logs/python.log" 2>&1 & pids+=($!)
ruby -I "$root/bindings/ruby/lib" "$root/bindings/ruby/bin/tasker-worker" --config ruby_worker.yml >"$logs/ruby.log" 2>&1 & pids+=($!)
node "$root/bindings/node/bin/tasker-worker.js" --concurrency 4 node_side.js >"$logs/node.log" 2>&1 & pids+=($!)

mapfile -t uuids < <(/usr/bin/python3 python_side.py create "$orders")
echo "created ${#uuids[@]} orders; workers: python ${pids[0]}, ruby ${pids[1]}, node ${pids[2]}"
for _ in $(seq 1 120); do
  if /usr/bin/python3 python_side.py check "${uuids[@]}" >"$logs/check" 2>&1; then
    cat "$logs/check"
    exit 0
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a worker exited early:"; tail -n 20 "$logs"/*.log; exit 1; }
  done
  sleep 0.5
done
echo "the orders did not all complete in 60 s:"
tail -n 5 "$logs/check"
tail -n 20 "$logs"/*.log
exit 1
