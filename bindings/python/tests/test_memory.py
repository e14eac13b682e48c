"""No native or Python memory growth over 10,000 handled tasks (retention keeps the engine's own store bounded)."""
import asyncio
import gc

import pytest

import tasker
from conftest import ORDER_CONTEXT, register_order_handlers


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class AsyncStep(tasker.StepHandler):
    async def process(self, context):
        await asyncio.sleep(0)
        return {"step": context.step.name, "saw": sorted(context.dependency_results)}


@pytest.mark.parametrize("mode", ["handle", "handle_async"])
def test_rss_does_not_grow_over_10000_handled_tasks(mode):
    with tasker.Engine(retention={"max_finished_tasks": 500}) as engine:
        register_order_handlers(engine)
        if mode == "handle_async":
            engine.register_handler("ShipOrder", AsyncStep)

        async def run_async(count):
            for _ in range(count):
                task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
                assert (await engine.handle_async(task.uuid)).action == "complete"

        def run(count):
            if mode == "handle_async":
                asyncio.run(run_async(count))
                return
            for _ in range(count):
                task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
                assert engine.handle(task.uuid).action == "complete"

        run(2_000)  # warm-up: pools, the library's caches, the retention window filling up
        gc.collect()
        before = rss_mb()
        run(10_000)
        gc.collect()
        after = rss_mb()
    print(f"{mode}: RSS {before:.1f} MB after warm-up, {after:.1f} MB after 10,000 more tasks")
    assert after - before < 20, f"RSS grew by {after - before:.1f} MB over 10,000 tasks"
