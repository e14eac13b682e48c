#!/usr/bin/env bash
# What libtasker costs each host process in memory, for Python, Ruby and Node in one run (issue 17's table).
#
#   bench/footprint/run.sh [--tasks 10000,100000] [--languages python,ruby,node] [VARIANT ...]
#
# A VARIANT is `label:VAR=VALUE,VAR=VALUE` (environment for that column, e.g. `gen0-default:DOTNET_GCgen0size=0`,
# or `before:TASKER_LIBRARY_PATH=/tmp/old/libtasker.so`); without any, one column with the library as built.
# Each cell is a process of its own (footprint.py / .rb / .js): RSS of the bare interpreter, after loading the
# binding and opening an engine (memory store, retention 500), after each checkpoint of handled tasks (8 no-op
# steps, concurrency 1), us per step over each checkpoint's tasks, and the library's managed heap from `health`.
# Next to RSS: the process's private dirty pages (smaps_rollup Private_Dirty), which leave out the clean file pages
# of the library's code that every process mapping it shares.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
tasks=10000,100000
languages=python,ruby,node
variants=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tasks) tasks=$2; shift 2 ;;
    --languages) languages=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) variants+=("$1"); shift ;;
  esac
done
[ ${#variants[@]} -gt 0 ] || variants=("as built:")
export TASKER_LIBRARY_PATH=${TASKER_LIBRARY_PATH:-$root/artifacts/lib/linux-x64/libtasker.so}
[ -f "$TASKER_LIBRARY_PATH" ] || { echo "run.sh: no $TASKER_LIBRARY_PATH (./build.sh native builds it)" >&2; exit 1; }
[ -d "$root/bindings/node/node_modules/koffi" ] || (cd "$root/bindings/node" && npm ci --no-audit --no-fund >/dev/null)

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for variant in "${variants[@]}"; do
  label=${variant%%:*}
  settings=${variant#*:}
  env_args=()
  if [ -n "$settings" ] && [ "$settings" != "$variant" ]; then IFS=, read -r -a env_args <<<"$settings"; fi
  for language in ${languages//,/ }; do
    case "$language" in
      python) cmd=(/usr/bin/python3 "$here/footprint.py" "$tasks") ;;
      ruby) cmd=(ruby "$here/footprint.rb" "$tasks") ;;
      node) cmd=(node --expose-gc "$here/footprint.js" "$tasks") ;;
      *) echo "run.sh: unknown language $language (python, ruby, node)" >&2; exit 1 ;;
    esac
    echo "run.sh: $label / $language ..." >&2
    line=$(env PYTHONPATH="$root/bindings/python/src" "${env_args[@]}" "${cmd[@]}")
    printf '%s\t%s\n' "$label" "$line" >>"$results"
  done
done
/usr/bin/python3 "$here/table.py" <"$results"
