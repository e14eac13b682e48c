#!/usr/bin/env bash
# Writes src/Tasker.Native/libtasker.order: the managed methods libtasker runs when a host starts it, opens an engine,
# registers a template and handles tasks (the Python and Node bindings' paths), in that order. ILC lays these
# methods out first and together (IlcOrderFile in Tasker.Native.csproj), so a process pages in about 1.4 MB of the
# library's code instead of 5.2 MB scattered over 10 MB (the kernel maps 64 KB around each page a process touches). docs/performance.md, "Footprint".
#
#   ./build.sh native && scripts/libtasker-order.sh && FORCE=1 ./build.sh native
#
# Regenerate after large changes to the start or step paths: names the library no longer has are ignored by ILC,
# and methods missing from the list are laid out after it (correct, just less compact). Needs valgrind (callgrind)
# and binutils (scripts/deps.sh installs both); the Node binding's path is added when its koffi is installed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lib=${1:-$root/artifacts/lib/linux-x64/libtasker.so}
out=${2:-$root/src/Tasker.Native/libtasker.order}
# Past the retention of 500 finished tasks the drivers below set (the library's default is 10,000), so that evicting
# them, which every long-running host does, is laid out too.
tasks=${TASKS:-1000}
[ -f "$lib" ] && [ -f "$lib.dbg" ] || { echo "libtasker-order.sh: needs $lib and $lib.dbg (./build.sh native)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "libtasker-order.sh: valgrind is not installed (scripts/deps.sh)" >&2; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# valgrind 3.19 cannot read the DWARF 5 of libtasker.so.dbg, but the symbol table is all it needs: a copy of the
# symbols without the DWARF, linked from a copy of the library.
objcopy --strip-debug "$lib.dbg" "$scratch/libtasker.so.sym"
cp "$lib" "$scratch/libtasker.so"
objcopy --remove-section .gnu_debuglink --add-gnu-debuglink="$scratch/libtasker.so.sym" "$scratch/libtasker.so"

# The host's path, through the Python binding and (when its koffi is installed) the Node binding: open, register,
# then the step loop of `handle`. The start runs first and the step-loop runs after, so the start's methods come
# first in the list.
cat >"$scratch/drive.py" <<'EOF'
import sys
from pathlib import Path
import tasker

class Noop(tasker.StepHandler):
    def process(self, context):
        return None

with tasker.Engine(concurrency=1, retention={"max_finished_tasks": 500}) as engine:
    engine.register_template(Path(sys.argv[1]).read_text())
    engine.register_handler("Noop", Noop)
    for _ in range(int(sys.argv[2])):
        engine.handle(engine.create_task("noop", namespace="bench").uuid)
    engine.health()
EOF
cat >"$scratch/drive.js" <<'EOF'
const fs = require('node:fs');
const tasker = require(process.env.TASKER_NODE_BINDING);
class Noop extends tasker.StepHandler { async process() { return null; } }
(async () => {
  const engine = new tasker.Engine({ concurrency: 1, retention: { maxFinishedTasks: 500 } });
  await engine.registerTemplate(fs.readFileSync(process.argv[2], 'utf8'));
  engine.registerHandler('Noop', Noop);
  for (let i = 0; i < Number(process.argv[3]); i += 1) await engine.handle((await engine.createTask('noop', { namespace: 'bench' })).uuid);
  await engine.health();
  await engine.close();
})();
EOF
languages=(python)
if [ -d "$root/bindings/node/node_modules/koffi" ] && command -v node >/dev/null; then languages+=(node)
else echo "libtasker-order.sh: no koffi in bindings/node (npm ci there): the Python binding's path only" >&2; fi
for phase in start:0 steps:"$tasks"; do
  for language in "${languages[@]}"; do
    case "$language" in
      python) cmd=(/usr/bin/python3 "$scratch/drive.py") ;;
      node) cmd=(node "$scratch/drive.js") ;;
    esac
    run=$scratch/$language-${phase%%:*}
    TASKER_LIBRARY_PATH=$scratch/libtasker.so PYTHONPATH=$root/bindings/python/src TASKER_NODE_BINDING=$root/bindings/node \
      valgrind --tool=callgrind --demangle=no --callgrind-out-file="$run.callgrind" \
      "${cmd[@]}" "$root/bench/footprint/noop.yaml" "${phase#*:}" >"$run.log" 2>&1 || { cat "$run.log" >&2; exit 1; }
    echo "$run.callgrind" >>"$scratch/profiles"
  done
done

# Keep the functions that live in ILC's sections (the managed code and its unboxing stubs): the runtime's C++ is
# linked from a static library, which the order does not move.
readelf -SW "$scratch/libtasker.so.sym" >"$scratch/sections"
readelf -sW "$scratch/libtasker.so.sym" >"$scratch/symbols"
/usr/bin/python3 - "$scratch" "$out" <<'EOF'
import re, sys
scratch, out = sys.argv[1], sys.argv[2]
managed = set()
for line in open(f"{scratch}/sections"):
    m = re.search(r"\[\s*(\d+)\]\s+(__managedcode|__unbox)\s", line)
    if m: managed.add(m.group(1))
functions = set()
for line in open(f"{scratch}/symbols"):
    p = line.split()
    if len(p) == 8 and p[3] == "FUNC" and p[6] in managed: functions.add(p[7])
order, seen = [], set()
for profile in open(f"{scratch}/profiles").read().split():
    names = {}
    for line in open(profile):
        m = re.match(r"^c?fn=\((\d+)\)(?: (.*))?$", line)
        if not m: continue
        if m.group(2): names[m.group(1)] = re.sub(r"'\d+$", "", m.group(2))  # callgrind's 'N: recursion depth
        name = names.get(m.group(1))
        if name in functions and name not in seen:
            seen.add(name); order.append(name)
if len(order) < 500: sys.exit(f"libtasker-order.sh: only {len(order)} managed methods seen; is the library the one built?")
with open(out, "w") as f:
    f.write("\n".join(order) + "\n")
print(f"libtasker-order.sh: {len(order)} methods -> {out}")
EOF
