"""`engine.handle` on no-op steps, through whichever Python binding and libtasker are on the paths.

    PYTHONPATH=<tree>/bindings/python/src TASKER_LIBRARY_PATH=<tree>/.../libtasker.so python3 handle.py TASKS C...

Prints one line per concurrency: `python handle c=<C> <us per step>` (median of 3 after a warm-up). Uses only the
API every binding version has had (Engine(concurrency=), register_template/handler, create_task, handle), so
bench/bindings/run.sh can run it against an older checkout too. With TASKER_BENCH_DATABASE_URL the engine is on
PostgreSQL, in the schema TASKER_BENCH_SCHEMA (default `bench`; give each checkout its own: their schema versions
may differ).
"""
import os
import statistics
import sys
import time

import tasker

STEPS = 8
TEMPLATE = "name: noop\nnamespace_name: bench\nversion: 1.0.0\nsteps:\n" + "".join(
    f"  - name: s{i}\n    handler: {{ callable: Noop }}\n" + (f"    dependencies: [s{i % 3}]\n" if i >= 3 else "")
    for i in range(STEPS))


class Noop(tasker.StepHandler):
    def process(self, context):
        return None


def per_step(engine, tasks):
    start = time.perf_counter()
    for _ in range(tasks):
        engine.handle(engine.create_task("noop", namespace="bench").uuid)
    return (time.perf_counter() - start) / (tasks * STEPS)


def open_engine(concurrency):
    database_url = os.environ.get("TASKER_BENCH_DATABASE_URL")
    if database_url:
        return tasker.Engine(database_url=database_url, schema=os.environ.get("TASKER_BENCH_SCHEMA", "bench"),
                             concurrency=concurrency)
    return tasker.Engine(concurrency=concurrency, retention={"max_finished_tasks": 1000})


def main():
    tasks = int(sys.argv[1])
    for concurrency in map(int, sys.argv[2:]):
        with open_engine(concurrency) as engine:
            engine.register_template(TEMPLATE)
            engine.register_handler("Noop", Noop)
            per_step(engine, max(tasks // 10, 100))
            median = statistics.median(per_step(engine, tasks) for _ in range(3))
        print(f"python handle c={concurrency} {median * 1e6:.2f}")


main()
