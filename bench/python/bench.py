"""No-op steps per second through the Python binding on the memory store, and Python's overhead over C.

    TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so PYTHONPATH=bindings/python/src \\
        /usr/bin/python3 bench/python/bench.py [tasks] [path/to/bench_abi]

Every loop runs the same 8-step template as bench/abi/bench_abi.c (waves of 3, 3, 1, 1 steps), medians of 3 runs:

- bare:   create, then claim one step + complete it until none is left: exactly bench_abi's loop, in Python
          (ctypes calls, json.dumps of each request, json.loads of each answer). Compared with bench_abi, run by
          this script when it is built (./build.sh ctest), to give Python's overhead per step over C.
- handle: engine.create_task + engine.handle with no-op StepHandlers, concurrency 1 (one step per claim, like the
          C loop) and 8 (a wave's steps claimed together and run on the thread pool).
- async:  engine.handle_async with `async def` no-op handlers, concurrency 8.
"""
from __future__ import annotations

import asyncio
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import tasker
from tasker import _ffi

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


class Noop(tasker.StepHandler):
    def process(self, context):
        return None


class AsyncNoop(tasker.StepHandler):
    async def process(self, context):
        return None


def bare_loop(engine: tasker.Engine, tasks: int) -> float:
    h = engine._h
    create = json.dumps({"namespace": "bench", "name": "noop"}).encode()
    start = time.perf_counter()
    for _ in range(tasks):
        uuid = json.loads(_ffi.call_json("tasker_task_create", h, create))["task"]["task_uuid"]
        claim = json.dumps({"task_uuid": uuid, "max_steps": 1}).encode()
        while True:
            claims = json.loads(_ffi.call_json("tasker_steps_claim", h, claim))["claims"]
            if not claims:
                break
            c = claims[0]
            _ffi.call_json("tasker_step_complete", h, json.dumps({
                "task_uuid": uuid, "step_uuid": c["step"]["step_uuid"], "claim_token": c["claim_token"],
                "result": None}).encode())
    return (time.perf_counter() - start) / (tasks * STEPS)


def handle_loop(engine: tasker.Engine, tasks: int) -> float:
    start = time.perf_counter()
    for _ in range(tasks):
        outcome = engine.handle(engine.create_task("noop", namespace="bench").uuid)
        assert outcome.action == "complete", outcome
    return (time.perf_counter() - start) / (tasks * STEPS)


def async_loop(engine: tasker.Engine, tasks: int) -> float:
    async def run() -> float:
        start = time.perf_counter()
        for _ in range(tasks):
            outcome = await engine.handle_async(engine.create_task("noop", namespace="bench").uuid)
            assert outcome.action == "complete", outcome
        return (time.perf_counter() - start) / (tasks * STEPS)
    return asyncio.run(run())


def measure(loop, handler: type[tasker.StepHandler], tasks: int, concurrency: int = 1) -> float:
    with tasker.Engine(concurrency=concurrency, retention={"max_finished_tasks": 1000}) as engine:
        engine.register_template(TEMPLATE)
        engine.register_handler("Noop", handler)
        loop(engine, max(tasks // 10, 100))  # warm-up
        return statistics.median(loop(engine, tasks) for _ in range(3))


def c_loop(bench_abi: Path, tasks: int) -> float | None:
    if not bench_abi.exists():
        return None
    runs = []
    for _ in range(3):
        out = subprocess.run([str(bench_abi), _ffi._find_library(), str(tasks)], capture_output=True, text=True,
                             check=True).stdout
        runs.append(float(re.search(r"per step .*?: ([\d.]+) us", out).group(1)) / 1e6)
    return statistics.median(runs)


def main() -> None:
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    bench_abi = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[2] / "build/cmake/bench/abi/bench_abi"
    print(f"Python {sys.version.split()[0]}, libtasker {tasker.version()}, {tasks} tasks x {STEPS} no-op steps, "
          "median of 3")
    rows = [
        ("bare claim(1) + complete loop", measure(bare_loop, Noop, tasks)),
        ("engine.handle, concurrency 1", measure(handle_loop, Noop, tasks, 1)),
        ("engine.handle, concurrency 8", measure(handle_loop, Noop, tasks, 8)),
        ("engine.handle_async, async handlers, concurrency 8", measure(async_loop, AsyncNoop, tasks, 8)),
    ]
    c = c_loop(bench_abi, tasks * 10)
    if c is not None:
        rows.append(("the bare loop in C (bench_abi)", c))
    for name, seconds in rows:
        over = f"   {(seconds - c) * 1e6:+6.1f} us over C" if c is not None and not name.startswith("the bare loop in C") else ""
        print(f"{name:<52} {seconds * 1e6:6.1f} us/step  {1 / seconds:>9,.0f} steps/s{over}")
    if c is None:
        print(f"(no {bench_abi}: run ./build.sh ctest to compare with C)")


if __name__ == "__main__":
    main()
