#!/usr/bin/env bash
# Worker mode side by side with graphile-worker 0.18 on one throwaway PostgreSQL, in one session, interleaved
# (issue 13): C# worker processes, and Python, Ruby and Node ones (bench/python/work_worker.py, bench/ruby/work_worker.rb,
# bench/node/work_worker.js: each binding's public worker through libtasker). Prints a markdown table: throughput
# medians and ratios, CPU (workers / server) and WAL bytes per step, then enqueue-to-start latency percentiles. Extra
# arguments go to `Tasker.Postgres.Bench side-by-side` (e.g. --rounds 5, --tasker-processes 4, --python-processes 2,
# --ruby-concurrency 8, --node-processes 2, --single-tasks 5000, --only Tasker, --only GraphileDefault,RubySingle,RubyDag).
#
#   TASKER_PG_PORT=54340 bench/worker/run.sh [--rounds 3 ...]
#
# Before and after a change: --before <commit> runs the same bench in a checkout of <commit> (a temporary git
# worktree, removed at the end) and in this tree, one invocation each per round, interleaved (--rounds N sets the
# number of pairs, each invocation runs one round; odd rounds run before first, even ones after first), on one
# cluster; every line is marked [before rK] or [after rK].
# Compare ratios within one invocation: the machine's pace drifts between invocations.
#
#   TASKER_PG_PORT=54340 bench/worker/run.sh --before HEAD~1 --rounds 3 --only GraphileDefault,Single,Dag
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

before=
rounds=
rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    --before) before=${2:?--before needs a commit}; shift 2 ;;
    --rounds) rounds=${2:?--rounds needs a number}; rest+=("$1" "$2"); shift 2 ;;
    *) rest+=("$1"); shift ;;
  esac
done
if [ -n "$before" ]; then
  commit=$(git rev-parse --verify --quiet "$before^{commit}") || { echo "run.sh: --before: no commit $before here" >&2; exit 2; }
  pairs=${rounds:-3}
  [[ "$pairs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --rounds: a positive number, not '$pairs'" >&2; exit 2; }
  args=()
  for ((i = 0; i < ${#rest[@]}; i++)); do
    if [ "${rest[i]}" = --rounds ]; then i=$((i + 1)); else args+=("${rest[i]}"); fi
  done
  tree=$(mktemp -d /tmp/tasker-bench-before.XXXXXX)
  started_here=
  cleanup() {
    [ -z "$started_here" ] || scripts/pg-test-cluster.sh stop >/dev/null || true
    git worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"
    git worktree prune || true
  }
  trap cleanup EXIT
  git worktree add -q --detach "$tree" "$commit"
  if [ -z "${TASKER_TEST_DATABASE_URL:-}" ]; then
    TASKER_TEST_DATABASE_URL=$(scripts/pg-test-cluster.sh start)
    started_here=1
  fi
  export TASKER_TEST_DATABASE_URL
  echo "before: $(git log -1 --format='%h %s' "$commit")"
  echo "after:  this tree, $(git log -1 --format='%h %s')$(git diff --quiet HEAD || echo ' (with uncommitted changes)')"
  for ((r = 1; r <= pairs; r++)); do
    order="before after"
    [ $((r % 2)) -eq 0 ] && order="after before" # neither side always meets the machine first
    for side in $order; do
      dir=$root; [ "$side" = before ] && dir=$tree
      (cd "$dir" && bench/worker/run.sh --rounds 1 ${args[@]+"${args[@]}"}) 2>&1 | sed "s/^/[$side r$r] /"
    done
  done
  exit 0
fi
set -- ${rest[@]+"${rest[@]}"}

# Installed again only when the lock file changed: --before runs this script once a round on each side, and an
# npm ci (it empties node_modules first) between two measured rounds cost seconds and heated the machine.
lock_sum=$(sha256sum bench/graphile/package-lock.json | cut -d' ' -f1)
if [ "$(cat bench/graphile/node_modules/.tasker-lock-sum 2>/dev/null)" != "$lock_sum" ]; then
  (cd bench/graphile && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$lock_sum" > bench/graphile/node_modules/.tasker-lock-sum
fi
dotnet build -c Release bench/Tasker.Postgres.Bench -v q -nologo >/dev/null

# The binding workers load libtasker from this tree (published here, skipped when up to date) and their binding from
# bindings/ (ahead of PYTHONPATH's or RUBYLIB's own entries): set up only for those --only selects (all without it).
only=
for ((i = 1; i <= $#; i++)); do
  if [ "${!i}" = --only ]; then
    j=$((i + 1))
    only=${!j:-}
  fi
done
selects() { [ -z "$only" ] || [[ "${only,,}" == *"$1"* ]]; }
if selects python || selects ruby || selects node; then
  ./build.sh native >/dev/null
  export TASKER_LIBRARY_PATH="$root/artifacts/lib/linux-x64/libtasker.so"
fi
if selects python; then
  export PYTHONPATH="$root/bindings/python/src${PYTHONPATH:+:$PYTHONPATH}"
fi
if selects ruby; then
  export RUBYLIB="$root/bindings/ruby/lib${RUBYLIB:+:$RUBYLIB}" # and Debian's ruby-ffi, as bindings/ruby/run-tests.sh
fi
if selects node && [ ! -d bindings/node/node_modules/koffi ]; then
  (cd bindings/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null) # koffi, as bindings/node/run-tests.sh
fi

started_here=
if [ -z "${TASKER_TEST_DATABASE_URL:-}" ]; then
  TASKER_TEST_DATABASE_URL=$(scripts/pg-test-cluster.sh start)
  started_here=1
fi
trap '[ -n "$started_here" ] && scripts/pg-test-cluster.sh stop >/dev/null' EXIT

dotnet bench/Tasker.Postgres.Bench/bin/Release/net10.0/Tasker.Postgres.Bench.dll side-by-side \
  --database-url "$TASKER_TEST_DATABASE_URL" --graphile-dir "$root/bench/graphile" \
  --python /usr/bin/python3 --python-worker "$root/bench/python/work_worker.py" \
  --ruby-worker "$root/bench/ruby/work_worker.rb" --node-worker "$root/bench/node/work_worker.js" "$@"
