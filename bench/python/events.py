"""Events delivered to a Python subscriber per second: fill a subscription by running tasks, then time draining it
in batches of 10,000 (the ABI serializes each batch to JSON; Python parses it).

    TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so PYTHONPATH=bindings/python/src \
        /usr/bin/python3 bench/python/events.py
"""
import time

import tasker

TEMPLATE = "name: noop\nnamespace_name: bench\nversion: 1.0.0\nsteps:\n" + "".join(
    f"  - name: s{i}\n    handler: {{ callable: Noop }}\n" for i in range(8))


class Noop(tasker.StepHandler):
    def process(self, context):
        return None


with tasker.Engine(concurrency=8) as engine:
    engine.register_template(TEMPLATE)
    engine.register_handler("Noop", Noop)
    with engine.subscribe("*", capacity=2_000_000) as events:
        for _ in range(8_000):
            engine.handle(engine.create_task("noop", namespace="bench").uuid)
        start = time.perf_counter()
        count = 0
        while batch := events.pull(10_000):
            count += len(batch)
        elapsed = time.perf_counter() - start
        print(f"{count:,} events delivered in {elapsed:.2f} s = {count / elapsed:,.0f} events/s (dropped {events.dropped})")
