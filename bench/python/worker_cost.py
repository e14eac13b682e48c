"""What one Python worker process costs per step: CPU (user and system) and context switches, for one or more
libtasker builds side by side (issue 13).

    export PYTHONPATH=bindings/python/src
    TASKER_BENCH_DATABASE_URL=$(scripts/pg-test-cluster.sh start) /usr/bin/python3 bench/python/worker_cost.py \\
        [--library artifacts/lib/linux-x64/libtasker.so --library /tmp/other/libtasker.so] [--rounds 4] \\
        [--tasks 3000] [--concurrency 8]

Each round runs one child process per library, in turn (interleaved: this machine's noise moves between rounds, not
within one). A child opens an engine on a fresh schema, creates ``--tasks`` one-step tasks (untimed), then runs
``tasker.Worker`` with ``--concurrency`` slots until no work is left (``burst``), and reports from ``getrusage`` of
its whole process (the binding's threads and the engine's): CPU per step and voluntary / involuntary context switches
per step. The involuntary ones count threads that spin and yield the core (``sched_yield``) as well as preemption, so
they show a process that burns CPU waiting. Prints each round and the medians per library. Without ``--library``:
``TASKER_LIBRARY_PATH``, or the binding's usual search.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid

TEMPLATE = """name: single
namespace_name: cost
version: 1.0.0
steps:
  - name: work
    handler: { callable: noop }
"""


def child(url: str, tasks: int, concurrency: int) -> dict[str, float]:
    import tasker

    class Noop(tasker.StepHandler):
        def process(self, context: tasker.StepContext) -> None:
            return None

    with tasker.Engine(database_url=url, schema=f"cost_{uuid.uuid4().hex[:12]}") as engine:
        engine.register_template(TEMPLATE)
        engine.register_handler("noop", Noop())
        for _ in range(tasks):
            engine.create_task("single", namespace="cost")
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        stats = tasker.Worker(engine, concurrency=concurrency, wait_seconds=0.2, stats_seconds=0).run(
            burst=True, handle_signals=False)
        elapsed, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF)
    steps = stats.completed
    if steps != tasks:
        raise SystemExit(f"the worker completed {steps} of {tasks} steps")
    return {"steps_per_second": steps / elapsed,
            "cpu_ms": 1000 * (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / steps,
            "user_ms": 1000 * (after.ru_utime - before.ru_utime) / steps,
            "system_ms": 1000 * (after.ru_stime - before.ru_stime) / steps,
            "voluntary": (after.ru_nvcsw - before.ru_nvcsw) / steps,
            "involuntary": (after.ru_nivcsw - before.ru_nivcsw) / steps}


def line(figures: dict[str, float]) -> str:
    return (f"{figures['steps_per_second']:7,.0f} steps/s, CPU {figures['cpu_ms']:.3f} ms/step (user "
            f"{figures['user_ms']:.3f}, system {figures['system_ms']:.3f}), context switches/step "
            f"{figures['voluntary']:.1f} voluntary, {figures['involuntary']:.1f} involuntary")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", action="append", help="a libtasker build to measure (repeat to compare)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("TASKER_BENCH_DATABASE_URL") or os.environ.get("TASKER_TEST_DATABASE_URL")
    if not url:
        raise SystemExit("set TASKER_BENCH_DATABASE_URL (scripts/pg-test-cluster.sh start prints one)")
    if args.child:
        print(json.dumps(child(url, args.tasks, args.concurrency)))
        return
    libraries = args.library or [os.environ.get("TASKER_LIBRARY_PATH", "")]
    print(f"1 worker process x concurrency {args.concurrency}, {args.tasks} one-step tasks a round, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    results: dict[str, list[dict[str, float]]] = {library: [] for library in libraries}
    for n in range(args.rounds):
        for library in libraries:
            env = dict(os.environ)
            if library:
                env["TASKER_LIBRARY_PATH"] = library
            out = subprocess.run([sys.executable, __file__, "--child", "--tasks", str(args.tasks), "--concurrency",
                                  str(args.concurrency)], env=env, check=True, capture_output=True, text=True).stdout
            results[library].append(json.loads(out.splitlines()[-1]))
            print(f"round {n + 1}, {library or 'default library'}: {line(results[library][-1])}", flush=True)
    for library, rounds in results.items():
        medians = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        print(f"median of {args.rounds}, {library or 'default library'}: {line(medians)}")


if __name__ == "__main__":
    main()
