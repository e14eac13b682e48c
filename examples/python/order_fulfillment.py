"""The order-fulfillment workflow in Python on the embedded memory store: no set-up, prints each step.

    ./build.sh native && TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so \
        PYTHONPATH=bindings/python/src /usr/bin/python3 examples/python/order_fulfillment.py
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python" / "src"))

import tasker  # noqa: E402

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "order_fulfillment.yaml"


class ValidateOrder(tasker.StepHandler):
    def process(self, context):
        order = context.task.context["order"]
        return {"valid": True, "total": order["total"]}


class ReserveInventory(tasker.StepHandler):
    def process(self, context):
        return {"reservation": f"RSV-{context.task.context['order']['id']}",
                "warehouse": context.step.initialization["warehouse"]}


class ProcessPayment(tasker.StepHandler):
    async def process(self, context):  # handlers may be async
        if context.step.attempt == 1:
            raise tasker.RetryableError("payment gateway timed out", retry_after=1)
        return {"payment_id": "PAY-1001", "charged": context.dependency_results["validate_order"]["total"]}


class ShipOrder(tasker.StepHandler):
    def process(self, context):
        return {"tracking": "TRK-1001"}

    def process_results(self, output):
        return {**output, "carrier": "tasker-post"}


def main() -> int:
    with tasker.Engine() as engine, engine.subscribe("step.*") as events:
        engine.register_template(TEMPLATE)
        engine.register_handlers(ValidateOrder, ReserveInventory, ProcessPayment, ShipOrder)  # by class name
        task = engine.create_task("order_fulfillment", namespace="fulfillment", initiator="examples/python",
                                  context={"order": {"id": 1001, "total": 59.90, "items": [{"sku": "TSK-1", "quantity": 2}]}})
        print(f"created task {task.uuid}")

        outcome = engine.handle(task.uuid)
        while outcome.requeue_after_seconds is not None:  # the engine says when to come back
            for e in events:
                print(f"  {e['name']:<22} {e['step_name']:<18} attempt {e['attempt']}")
            # A queue-driven host re-enqueues instead (Celery: countdown=outcome.requeue_after_seconds).
            print(f"  {outcome.action}: waiting {outcome.requeue_after_seconds:.2f}s")
            time.sleep(outcome.requeue_after_seconds)
            outcome = engine.handle(task.uuid)
        for e in events:
            print(f"  {e['name']:<22} {e['step_name']:<18} attempt {e['attempt']}")

        done = engine.get_task(task.uuid)
        print(f"task {done.state}: " + ", ".join(f"{s.name}={s.state}/{s.attempts}" for s in done.steps))
        print(f"shipment: {done.step('ship_order').result}")
        return 0 if done.state == "complete" else 1


if __name__ == "__main__":
    sys.exit(main())
