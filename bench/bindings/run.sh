#!/usr/bin/env bash
# Per-step cost of `engine.handle` through each binding, over the C loop (bench_abi), on the memory store; with
# --before REF, the same measured for an older commit in the same run, rounds interleaved (before, after, before,
# ...), so both sides see the same machine. Medians over the rounds.
#
#   bench/bindings/run.sh [--before REF] [--tasks N] [--rounds R] [--concurrency "1 8"]
#
# The older commit is checked out under .tmp/bench-before/<sha> and built there once (its libtasker, its bench_abi,
# its Node binding's packages). Each side runs with its own library and its own binding: the loops in this folder use
# only API that every binding version has had.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/bench/bindings
before="" tasks=2000 rounds=3 concurrency="1 8"
while [ $# -gt 0 ]; do
  case "$1" in
    --before) before=$2; shift 2 ;;
    --tasks) tasks=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
lib_of() { echo "$1/artifacts/lib/linux-x64/libtasker.so"; }

# prepare TREE: the library, bench_abi and Node packages of a checkout.
prepare() {
  local tree=$1
  (cd "$tree" && ./build.sh native >/dev/null)
  (cd "$tree" && cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build/cmake -j 2 --target bench_abi >/dev/null)
  # An older commit's lock file may be out of step with its package.json (issue 12): then install without it.
  [ -d "$tree/bindings/node/node_modules/koffi" ] || (cd "$tree/bindings/node" && {
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=silent >/dev/null 2>&1 ||
      npm install --no-package-lock --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null; })
}

sides=("after:$root")
if [ -n "$before" ]; then
  sha=$(git -C "$root" rev-parse --short "$before^{commit}")
  tree=$root/.tmp/bench-before/$sha
  if [ ! -d "$tree" ]; then
    echo "checking out $before ($sha) into $tree" >&2
    git -C "$root" worktree add --detach "$tree" "$sha" >/dev/null
  fi
  sides=("before:$tree" "${sides[@]}")
fi
for side in "${sides[@]}"; do echo "building ${side%%:*} (${side#*:})" >&2; prepare "${side#*:}"; done

# The raw lines stay (one per measurement) so a table can be made again from them: summarize FILE.
mkdir -p "$root/.tmp"
results=$root/.tmp/bench-bindings-$(date -u +%Y%m%dT%H%M%S).txt
for round in $(seq "$rounds"); do
  for side in "${sides[@]}"; do
    name=${side%%:*} tree=${side#*:} lib=$(lib_of "${side#*:}")
    echo "round $round/$rounds: $name" >&2
    c=$("$tree/build/cmake/bench/abi/bench_abi" "$lib" $((tasks * 10)) | sed -n 's/^per step (create\/8 + claim + complete): \([0-9.]*\) us.*/\1/p')
    echo "$name c loop $c" >>"$results"
    # shellcheck disable=SC2086
    {
      TASKER_LIBRARY_PATH=$lib PYTHONPATH=$tree/bindings/python/src /usr/bin/python3 "$here/handle.py" "$tasks" $concurrency
      TASKER_LIBRARY_PATH=$lib ruby -I "$tree/bindings/ruby/lib" "$here/handle.rb" "$tasks" $concurrency
      TASKER_LIBRARY_PATH=$lib node "$here/handle.js" "$tree/bindings/node" "$tasks" $concurrency
    } | sed "s/^/$name /" >>"$results"
  done
done

echo "raw figures: $results" >&2
echo "$(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg);" \
  "$tasks tasks x 8 no-op steps per measurement, medians of $rounds rounds (each itself a median of 3)"
/usr/bin/python3 - "$results" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, lang, *what, value = line.split()
    rows[(lang, " ".join(what), side)].append(float(value))
median = {key: statistics.median(values) for key, values in rows.items()}
sides = [s for s in ("before", "after") if ("c", "loop", s) in median]
print(f"{'us per step':<24}" + "".join(f"{s:>10}{s + ' - C':>14}" for s in sides))
for lang, what in dict.fromkeys((l, w) for l, w, _ in median):
    cells = ""
    for s in sides:
        v, c = median.get((lang, what, s)), median[("c", "loop", s)]
        cells += f"{v:>10.1f}" + (f"{v - c:>+14.1f}" if lang != "c" else f"{'':>14}") if v is not None else f"{'-':>24}"
    print(f"{lang + ' ' + what:<24}{cells}")
PY
