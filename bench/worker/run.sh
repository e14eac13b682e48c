#!/usr/bin/env bash
# Worker mode side by side with graphile-worker 0.18 on one throwaway PostgreSQL, in one session, interleaved
# (issue 13): C# worker processes and Python ones (bench/python/work_worker.py: tasker.Worker through libtasker). Prints a markdown table: throughput medians and ratios, CPU (workers / server) and WAL bytes per
# step, then enqueue-to-start latency percentiles. Extra arguments go to `Tasker.Postgres.Bench side-by-side`
# (e.g. --rounds 5, --tasker-processes 4, --python-processes 2, --python-concurrency 8, --single-tasks 5000,
# --only Tasker, --only GraphileDefault,PythonSingle,PythonDag).
#
#   TASKER_PG_PORT=54340 bench/worker/run.sh [--rounds 3 ...]
#
# graphile-worker is installed with `npm ci` into bench/graphile/node_modules (bench-only, not committed).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

for arg in "$@"; do
  case "$arg" in
    -h|--help)
      sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
      echo "Options of side-by-side (Tasker.Postgres.Bench --help):"
      dotnet build -c Release bench/Tasker.Postgres.Bench -v q -nologo >/dev/null
      dotnet bench/Tasker.Postgres.Bench/bin/Release/net10.0/Tasker.Postgres.Bench.dll --help | awk '/^  side-by-side/ { on = 1 } /^  work-worker/ { on = 0 } on'
      exit 0 ;;
  esac
done

(cd bench/graphile && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
dotnet build -c Release bench/Tasker.Postgres.Bench -v q -nologo >/dev/null

# The Python workers load libtasker from this tree: publish it (skipped when up to date) unless --only leaves them out.
python_workers=1
for ((i = 1; i <= $#; i++)); do
  if [ "${!i}" = --only ]; then
    j=$((i + 1))
    [[ "${!j:-}" == *[Pp]ython* ]] || python_workers=
  fi
done
if [ -n "$python_workers" ]; then
  ./build.sh native >/dev/null
  export TASKER_LIBRARY_PATH="$root/artifacts/lib/linux-x64/libtasker.so"
  export PYTHONPATH="$root/bindings/python/src${PYTHONPATH:+:$PYTHONPATH}"
fi

started_here=
if [ -z "${TASKER_TEST_DATABASE_URL:-}" ]; then
  TASKER_TEST_DATABASE_URL=$(scripts/pg-test-cluster.sh start)
  started_here=1
fi
trap '[ -n "$started_here" ] && scripts/pg-test-cluster.sh stop >/dev/null' EXIT

dotnet bench/Tasker.Postgres.Bench/bin/Release/net10.0/Tasker.Postgres.Bench.dll side-by-side \
  --database-url "$TASKER_TEST_DATABASE_URL" --graphile-dir "$root/bench/graphile" \
  --python /usr/bin/python3 --python-worker "$root/bench/python/work_worker.py" "$@"
