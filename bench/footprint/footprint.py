"""What libtasker costs a Python process: RSS bare, after import + open, after N tasks; us per step.

    TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so PYTHONPATH=bindings/python/src \\
        /usr/bin/python3 bench/footprint/footprint.py [checkpoints, e.g. 10000,100000]

Prints one JSON object (bench/footprint/run.sh makes the table). The template is bench_abi's 8 no-op steps, the
engine the memory store with retention 500, `handle` with concurrency 1.
"""
import sys

# Measured before anything else is imported: the bare interpreter.
def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def private_mb():
    """Dirty pages only this process holds (Private_Dirty: heaps, stacks, written data). Clean file pages (the
    library's code and read-only data) count in RSS but are shared by every process that maps the file and can be
    dropped by the kernel; what a fleet multiplies is this."""
    with open("/proc/self/smaps_rollup") as rollup:
        return sum(int(line.split()[1]) for line in rollup if line.startswith("Private_Dirty:")) / 1024


BARE, BARE_PRIVATE = rss_mb(), private_mb()

# Only what the binding imports anyway, or builtin modules: the driver's own imports count in "after import + open"
# (pathlib, which tasker no longer imports, was 0.5 MB of it).
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import tasker  # noqa: E402

with open(os.path.join(os.path.dirname(__file__), "noop.yaml"), encoding="utf-8") as _file:
    TEMPLATE = _file.read()


class Noop(tasker.StepHandler):
    def process(self, context):
        return None


def main():
    checkpoints = [int(n) for n in (sys.argv[1] if len(sys.argv) > 1 else "10000,100000").split(",")]
    out = {"language": f"Python {sys.version.split()[0]}", "bare": BARE, "bare_private": BARE_PRIVATE}
    with tasker.Engine(concurrency=1, retention={"max_finished_tasks": 500}) as engine:
        engine.register_template(TEMPLATE)
        engine.register_handler("Noop", Noop)
        gc.collect()
        out["open"], out["open_private"] = rss_mb(), private_mb()
        done, rows = 0, []
        for target in checkpoints:
            start = time.perf_counter()
            for _ in range(target - done):
                outcome = engine.handle(engine.create_task("noop", namespace="bench").uuid)
                if outcome.action != "complete":
                    raise SystemExit(f"task ended with {outcome.action}")
            seconds = time.perf_counter() - start
            gc.collect()
            rows.append({"tasks": target, "rss": rss_mb(), "private": private_mb(),
                         "us_per_step": seconds * 1e6 / ((target - done) * 8)})
            done = target
        out["checkpoints"] = rows
        out["memory"] = engine.health().get("memory")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
