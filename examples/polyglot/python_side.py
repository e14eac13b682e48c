"""The Python worker of the polyglot example: validation, inventory and shipping.

    python3 -m tasker worker python_side:make_engine      # a worker (run.sh starts one)
    python3 python_side.py create 10                      # create 10 orders
    python3 python_side.py check UUID...                  # exit 0 when every task completed, each step once
"""
import os
import sys
from pathlib import Path

import tasker

HERE = Path(__file__).resolve().parent
#: The language whose worker has each handler: a step's result must say it ran there.
LANGUAGE = {"ValidateOrder": "python", "ReserveInventory": "python", "ProcessPayment": "ruby",
            "NotifyCustomer": "node", "ShipOrder": "python"}


class ValidateOrder(tasker.StepHandler):
    def process(self, context):
        order = context.task.context["order"]
        if order["total"] <= 0:
            raise tasker.PermanentError(f"order {order['id']} has no total")
        return {"by": "python", "valid": True}


class ReserveInventory(tasker.StepHandler):
    def process(self, context):
        return {"by": "python", "reservation": f"RSV-{context.task.context['order']['id']}"}


class ShipOrder(tasker.StepHandler):
    def process(self, context):
        payment = context.dependency_results["process_payment"]
        return {"by": "python", "tracking": f"TRK-{payment['payment_id']}"}


def make_engine() -> tasker.Engine:
    engine = tasker.Engine(database_url=os.environ["DATABASE_URL"], schema=os.environ.get("TASKER_SCHEMA", "polyglot"))
    engine.register_template(HERE / "order_flow.yaml")
    engine.register_handlers(ValidateOrder, ReserveInventory, ShipOrder)
    return engine


def create(count: int) -> None:
    with make_engine() as engine:
        for n in range(count):
            task = engine.create_task("order_flow", namespace="polyglot", context={"order": {"id": 5000 + n, "total": 42.0}})
            print(task.uuid)


def check(uuids: list[str]) -> int:
    """Every task complete, every step run once, by the worker of the language that has its handler."""
    problems = []
    with make_engine() as engine:
        for uuid in uuids:
            task = engine.get_task(uuid)
            if task.state != "complete":
                problems.append(f"{uuid}: {task.state}")
                continue
            for step in task.steps:
                want = LANGUAGE[step.raw["handler"]]
                if step.attempts != 1 or (step.result or {}).get("by") != want:
                    problems.append(f"{uuid} {step.name}: ran {step.attempts}x, by {(step.result or {}).get('by')}, want {want}")
    print("\n".join(problems) or f"all {len(uuids)} orders complete; every step ran once, in the language of its handler")
    return 1 if problems else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["create"]:
        create(int(sys.argv[2]))
    elif sys.argv[1:2] == ["check"]:
        sys.exit(check(sys.argv[2:]))
    else:
        sys.exit(__doc__)
