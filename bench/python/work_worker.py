"""One Python worker process of the side-by-side bench (bench/worker/run.sh; issue 13): the public ``tasker.Worker``
on the PostgreSQL store through libtasker, running no-op handlers for the bench templates
(bench/Tasker.Postgres.Bench/BenchTemplates.cs). Driven by ``Tasker.Postgres.Bench side-by-side`` over stdin/stdout
lines, exactly as its C# twin (WorkMode/WorkModeWorker.cs):

- warm-up on the tasks of ``--warmup-namespace`` until none is left (a burst run), then ``READY``;
- ``GO``: work on ``--namespace`` until ``STOP``, then ``REPORT steps first_ns last_ns errors``.

    export TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so PYTHONPATH=bindings/python/src
    python3 bench/python/work_worker.py --database-url URL --schema S --worker-id py0 [--concurrency 8] \\
        [--prefetch 8] [--warmup-namespace warmup_0] [--namespace bench]

``steps`` are the worker's completed reports (``Worker.stats``); ``first_ns``/``last_ns`` are when the first handler
started and the last one returned, from ``time.monotonic_ns()``: CLOCK_MONOTONIC, the clock of .NET's
``Stopwatch.GetTimestamp()`` and Node's ``process.hrtime.bigint()`` on Linux, so the orchestrator compares them across
processes (graphile-worker's child times its jobs the same way, inside the job function). ``errors`` are the steps
that failed, were refused as stale, could not be reported or were handed back at shutdown. The store's statement
counts of the C# child are not reachable through the binding: left out, so the table prints '–' for them.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time

import tasker

#: The handlers of BenchTemplates.Mixed and BenchTemplates.Single (BenchTemplates.Handlers).
HANDLERS = ("init_handler", "left_handler", "right_handler", "validate_handler", "transform_handler",
            "analyze_handler", "finalize_handler", "noop")
#: The C# child's claims wait 1 s for work: the same here (a stop is noticed between claims).
WAIT_SECONDS = 1.0
#: The warm-up ends at its first empty claim; waiting long for one would only delay READY.
WARMUP_WAIT_SECONDS = 0.2
LEASE_SECONDS = 60.0


class Noop(tasker.StepHandler):
    """Does nothing; records when the first step started and the last one ended (one shared instance)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.first = 0
        self.last = 0

    def process(self, context: tasker.StepContext) -> None:
        started = time.monotonic_ns()
        with self._lock:
            if self.first == 0 or started < self.first:
                self.first = started
            self.last = max(self.last, time.monotonic_ns())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--concurrency", type=int, default=tasker.worker.DEFAULT_CONCURRENCY)
    parser.add_argument("--prefetch", type=int, default=None, help="default: the worker's (its concurrency)")
    parser.add_argument("--warmup-namespace")
    parser.add_argument("--namespace", default="bench")
    args = parser.parse_args(argv)

    # The orchestrator installed the schema; the pool is the engine's default (20), more than concurrency + claimer.
    with tasker.Engine(database_url=args.database_url, schema=args.schema, migrate=False,
                       worker_id=args.worker_id) as engine:
        if args.warmup_namespace:
            # Not measured: imports, the pool, the prepared statements and the caches settle here.
            warm = Noop()
            for name in HANDLERS:
                engine.register_handler(name, warm)
            tasker.Worker(engine, concurrency=args.concurrency, prefetch=args.prefetch,
                          namespaces=[args.warmup_namespace], lease_seconds=LEASE_SECONDS,
                          wait_seconds=WARMUP_WAIT_SECONDS, stats_seconds=0,
                          worker_id=args.worker_id).run(burst=True, handle_signals=False)
        print("READY", flush=True)
        if sys.stdin.readline().strip() != "GO":
            return 3

        noop = Noop()
        for name in HANDLERS:
            engine.register_handler(name, noop)
        worker = tasker.Worker(engine, concurrency=args.concurrency, prefetch=args.prefetch,
                               namespaces=[args.namespace], lease_seconds=LEASE_SECONDS, wait_seconds=WAIT_SECONDS,
                               stats_seconds=0, worker_id=args.worker_id)
        line: list[str] = []

        def await_stop() -> None:
            line.append(sys.stdin.readline().strip())
            worker.stop()

        threading.Thread(target=await_stop, name="bench-stdin", daemon=True).start()
        stats = worker.run(handle_signals=False)
        errors = stats.failed + stats.stale + stats.unreported + stats.shutdown
        print(f"REPORT {stats.completed} {noop.first} {noop.last} {errors}", flush=True)
        return 0 if line == ["STOP"] else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
