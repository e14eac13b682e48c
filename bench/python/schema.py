"""What validating a task's context against its template's input_schema costs per create_task (JsonSchema.Net).

    TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so PYTHONPATH=bindings/python/src \\
        /usr/bin/python3 bench/python/schema.py [creates]

Creates tasks from examples/templates/order_fulfillment.yaml with its input_schema and from the same template with
the schema removed; the difference is the validation. CPU time of this process (the library runs on the calling
thread), best of 3: on a shared machine wall time varies several-fold with the load, CPU time does not.
"""
import re
import sys
import time
from pathlib import Path

import tasker

TEMPLATE = (Path(__file__).resolve().parents[2] / "examples" / "templates" / "order_fulfillment.yaml").read_text()
CONTEXT = {"order": {"id": 7, "total": 12.5, "items": [{"sku": "A", "quantity": 1}]}}
WARM_UP = 2_000


def microseconds_per_create(text: str, count: int) -> float:
    with tasker.Engine(retention={"max_finished_tasks": 500}) as engine:
        engine.register_template(text)
        for _ in range(WARM_UP):
            engine.create_task("order_fulfillment", namespace="fulfillment", context=CONTEXT)
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            for _ in range(count):
                engine.create_task("order_fulfillment", namespace="fulfillment", context=CONTEXT)
            best = min(best, (time.process_time() - started) / count * 1e6)
        return best


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    without = re.sub(r"input_schema:\n(  .*\n|\n)*?(?=steps:)", "", TEMPLATE)
    assert "input_schema" not in without
    with_schema, no_schema = microseconds_per_create(TEMPLATE, count), microseconds_per_create(without, count)
    print(f"create_task, CPU time, best of 3 x {count:,}: with input_schema {with_schema:.1f} us, "
          f"without {no_schema:.1f} us, validation {with_schema - no_schema:.1f} us")


if __name__ == "__main__":
    main()
