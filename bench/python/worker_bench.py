"""Worker mode through Python: N `python -m tasker worker` processes on one PostgreSQL, no-op steps, steps per second.

    export TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so PYTHONPATH=bindings/python/src
    TASKER_BENCH_DATABASE_URL=$(scripts/pg-test-cluster.sh start) \\
        /usr/bin/python3 bench/python/worker_bench.py [--workers 2] [--concurrency 8] [--tasks 500] [--rounds 3] \
        [--compare-handle]

Each round: a fresh schema; the tasks (bench.py's 8-step template: waves of 3, 3, 1, 1 no-op steps) are created
first, untimed; the workers start and wait, engine open, at a gate (this module is also their factory); the clock
starts when the gate opens and stops when the last task is complete (polled every 20 ms). Prints each round and the
median. --compare-handle interleaves a round of the same tasks driven by engine.handle in one process (concurrency
the same), and prints the ratio. (TASKER_TEST_DATABASE_URL is used when TASKER_BENCH_DATABASE_URL is not set.)
"""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import tasker

HERE = Path(__file__).resolve().parent
STEPS = 8
TEMPLATE = """name: noop
namespace_name: bench
version: 1.0.0
steps:
  - { name: s0, handler: { callable: Noop } }
  - { name: s1, handler: { callable: Noop } }
  - { name: s2, handler: { callable: Noop } }
  - { name: s3, handler: { callable: Noop }, dependencies: [s0] }
  - { name: s4, handler: { callable: Noop }, dependencies: [s1] }
  - { name: s5, handler: { callable: Noop }, dependencies: [s2] }
  - { name: s6, handler: { callable: Noop }, dependencies: [s3, s4] }
  - { name: s7, handler: { callable: Noop }, dependencies: [s5, s6] }
"""
GATE_POLL_SECONDS = 0.005
DONE_POLL_SECONDS = 0.02


class Noop(tasker.StepHandler):
    def process(self, context):
        return None


def open_engine(url: str, schema: str) -> tasker.Engine:
    engine = tasker.Engine(database_url=url, schema=schema)
    engine.register_template(TEMPLATE)
    engine.register_handler("Noop", Noop)
    return engine


def factory() -> tasker.Engine:
    """The workers' factory: opens the engine, says so, and returns it when the bench opens the gate."""
    engine = open_engine(os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_SCHEMA"])
    gate = Path(os.environ["BENCH_GATE"])
    (gate.parent / f"ready-{os.getpid()}").touch()
    while not gate.exists():
        time.sleep(GATE_POLL_SECONDS)
    return engine


def one_round(url: str, workers: int, concurrency: int, tasks: int, directory: Path) -> float:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    gate = directory / f"gate-{schema}"
    with open_engine(url, schema) as engine:
        for _ in range(tasks):
            engine.create_task("noop", namespace="bench")
        env = {**os.environ, "BENCH_DATABASE_URL": url, "BENCH_SCHEMA": schema, "BENCH_GATE": str(gate),
               "PYTHONPATH": os.pathsep.join([str(HERE), *(os.path.abspath(p) for p in sys.path if p)])}
        command = [sys.executable, "-m", "tasker", "worker", "worker_bench:factory", "--concurrency",
                   str(concurrency), "--log-level", "warning"]
        procs = [subprocess.Popen(command, env=env, cwd=HERE) for _ in range(workers)]
        try:
            while len(list(directory.glob("ready-*"))) < workers:
                if any(p.poll() is not None for p in procs):
                    raise SystemExit("a worker exited before it was ready")
                time.sleep(GATE_POLL_SECONDS)
            start = time.perf_counter()
            gate.touch()
            while engine.health()["tasks"]["complete"] < tasks:
                time.sleep(DONE_POLL_SECONDS)
            elapsed = time.perf_counter() - start
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(60)
            for ready in directory.glob("ready-*"):
                ready.unlink()
    return tasks * STEPS / elapsed


def handle_round(url: str, concurrency: int, tasks: int) -> float:
    """The comparison: the same tasks driven by engine.handle, one after another, in this one process (what a queue
    worker runs per job, without the queue)."""
    with open_engine(url, f"bench_{uuid.uuid4().hex[:12]}") as engine:
        engine._concurrency = concurrency
        uuids = [engine.create_task("noop", namespace="bench").uuid for _ in range(tasks)]
        start = time.perf_counter()
        for task_uuid in uuids:
            engine.handle(task_uuid)
        return tasks * STEPS / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare-handle", action="store_true",
                        help="after each round, the same tasks through engine.handle in one process")
    args = parser.parse_args()
    url = os.environ.get("TASKER_BENCH_DATABASE_URL") or os.environ.get("TASKER_TEST_DATABASE_URL")
    if not url:
        raise SystemExit("set TASKER_BENCH_DATABASE_URL (scripts/pg-test-cluster.sh start prints one)")
    print("command:", shlex.join([sys.executable, *sys.argv]), flush=True)
    print(f"{args.workers} worker processes x concurrency {args.concurrency}, {args.tasks} tasks x {STEPS} no-op "
          f"steps per round, PostgreSQL, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start",
          flush=True)
    rates, handled = [], []
    with tempfile.TemporaryDirectory() as directory:
        for n in range(args.rounds):
            rate = one_round(url, args.workers, args.concurrency, args.tasks, Path(directory))
            rates.append(rate)
            print(f"round {n + 1}: {rate:,.0f} steps/s", flush=True)
            if args.compare_handle:
                handled.append(handle_round(url, args.concurrency, args.tasks))
                print(f"round {n + 1}, engine.handle in 1 process: {handled[-1]:,.0f} steps/s", flush=True)
    print(f"median of {args.rounds}: {statistics.median(rates):,.0f} steps/s "
          f"(load average {os.getloadavg()[0]:.1f} at the end)")
    if handled:
        print(f"engine.handle, median of {args.rounds}: {statistics.median(handled):,.0f} steps/s; "
              f"worker mode / handle = {statistics.median(rates) / statistics.median(handled):.2f}")


if __name__ == "__main__":
    main()
