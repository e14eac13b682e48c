"""Run by test_memory.py in a process of its own: handles tasks until RSS settles, then measures growth.

    python memory_probe.py handle|handle_async <batch> <window> <max_warmup_batches> <measured_tasks>

Prints one JSON object: the RSS samples (MB, one per batch, each after gc.collect()), the tasks it took to
settle (null when it never did within max_warmup_batches), the settled level and the level after measured_tasks
more, and the engine's `health()["memory"]` at the end.

Settled: the highest RSS of the last `window` batches is within SETTLE_MB of the highest before them. The
highest, not the last, because the library's GC makes RSS a saw-tooth of a few MB; a leak lifts the top of it.
"""
import asyncio
import gc
import json
import sys

import tasker
from conftest import ORDER_CONTEXT, register_order_handlers

SETTLE_MB = 1.0


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class AsyncStep(tasker.StepHandler):
    async def process(self, context):
        await asyncio.sleep(0)
        return {"step": context.step.name, "saw": sorted(context.dependency_results)}


def main() -> None:
    mode, batch, window, max_warmup, measured = sys.argv[1], *map(int, sys.argv[2:6])
    with tasker.Engine(retention={"max_finished_tasks": 500}) as engine:
        register_order_handlers(engine)
        if mode == "handle_async":
            engine.register_handler("ShipOrder", AsyncStep)

        async def run_async(count):
            for _ in range(count):
                task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
                assert (await engine.handle_async(task.uuid)).action == "complete"

        def run_batch() -> float:
            if mode == "handle_async":
                asyncio.run(run_async(batch))
            else:
                for _ in range(batch):
                    task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
                    assert engine.handle(task.uuid).action == "complete"
            gc.collect()
            return rss_mb()

        warmup = []
        settled_after = None
        while len(warmup) < max_warmup:
            warmup.append(run_batch())
            if len(warmup) > window and max(warmup[-window:]) - max(warmup[:-window]) <= SETTLE_MB:
                settled_after = len(warmup) * batch
                break
        measure = [run_batch() for _ in range(max(measured // batch, window))]
        print(json.dumps({
            "warmup": warmup, "measure": measure, "settled_after": settled_after,
            "settled": max(warmup[-window:]), "after": max(measure[-window:]), "measured_tasks": len(measure) * batch,
            "memory": engine.health()["memory"]}))


if __name__ == "__main__":
    main()
