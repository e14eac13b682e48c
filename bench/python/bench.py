"""No-op steps per second through the Python binding on the memory store.

    TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so PYTHONPATH=bindings/python/src \
        /usr/bin/python3 bench/python/bench.py [tasks]

Two loops over the same 8-step template: `engine.handle` (the real path: claim a wave, run handlers, report,
evaluate) with concurrency 1, and a bare loop of claim + complete calls (the binding's FFI cost alone). Compare
the per-step figures with bench/abi (the same bare loop in C).
"""
import json
import statistics
import sys
import time

import tasker
from tasker import _ffi

TEMPLATE = "name: noop\nnamespace_name: bench\nversion: 1.0.0\nsteps:\n" + "".join(
    f"  - name: s{i}\n    handler: {{ callable: Noop }}\n" + (f"    dependencies: [s{i % 3}]\n" if i >= 3 else "")
    for i in range(8))


class Noop(tasker.StepHandler):
    def process(self, context):
        return None


def handle_loop(engine, tasks):
    start = time.perf_counter()
    for _ in range(tasks):
        engine.handle(engine.create_task("noop", namespace="bench").uuid)
    return (time.perf_counter() - start) / (tasks * 8)


def bare_loop(engine, tasks):
    """claim one step, complete it: what bench/abi does in C."""
    h = engine._h
    start = time.perf_counter()
    for _ in range(tasks):
        uuid = engine.create_task("noop", namespace="bench").uuid
        request = json.dumps({"task_uuid": uuid, "max_steps": 1}).encode()
        while True:
            claims = json.loads(_ffi.call_json("tasker_steps_claim", h, request))["claims"]
            if not claims:
                break
            c = claims[0]
            _ffi.call_json("tasker_step_complete", h, json.dumps({
                "task_uuid": uuid, "step_uuid": c["step"]["step_uuid"], "claim_token": c["claim_token"],
                "result": None}).encode())
    return (time.perf_counter() - start) / (tasks * 8)


def main():
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tasker.Engine(concurrency=1, retention={"max_finished_tasks": 1000}) as engine:
        engine.register_template(TEMPLATE)
        engine.register_handler("Noop", Noop)
        handle_loop(engine, 200)  # warm-up
        runs = [handle_loop(engine, tasks) for _ in range(3)]
        bare = [bare_loop(engine, tasks) for _ in range(3)]
    h, b = statistics.median(runs), statistics.median(bare)
    print(f"engine.handle: {h * 1e6:.1f} us/step = {1 / h:,.0f} no-op steps/s (median of 3 x {tasks} tasks)")
    print(f"bare claim+complete loop: {b * 1e6:.1f} us/step = {1 / b:,.0f} steps/s")


if __name__ == "__main__":
    main()
