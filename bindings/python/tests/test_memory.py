"""No native or Python memory growth over 10,000 handled tasks (retention keeps the engine's own store bounded)."""
import gc

import tasker
from conftest import ORDER_CONTEXT, register_order_handlers


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def test_rss_does_not_grow_over_10000_handled_tasks():
    with tasker.Engine(retention={"max_finished_tasks": 500}) as engine:
        register_order_handlers(engine)

        def run(count):
            for _ in range(count):
                task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
                assert engine.handle(task.uuid).action == "complete"

        run(2_000)  # warm-up: pools, JIT-free AOT caches, the retention window filling up
        gc.collect()
        before = rss_mb()
        run(10_000)
        gc.collect()
        growth = rss_mb() - before
    assert growth < 20, f"RSS grew by {growth:.1f} MB over 10,000 tasks"
