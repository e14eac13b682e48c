"""Worker mode: the order-fulfillment workflow run by `python -m tasker worker` processes. No queue: PostgreSQL is
the queue, and every worker takes the ready steps of its handlers from every task.

    export TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so PYTHONPATH=$PWD/bindings/python/src
    export DATABASE_URL=postgres://postgres@127.0.0.1:54329/tasker_test      # scripts/pg-test-cluster.sh start
    cd examples/python
    /usr/bin/python3 -m tasker worker worker:make_engine --concurrency 8     # as many as you like; Ctrl-C stops one
    /usr/bin/python3 worker.py 10                                            # elsewhere: create 10 orders

The handlers are order_fulfillment.py's (the payment fails once and is retried a second later).
"""
import os
import sys

import tasker
from order_fulfillment import TEMPLATE, ProcessPayment, ReserveInventory, ShipOrder, ValidateOrder


def make_engine() -> tasker.Engine:
    """The factory `python -m tasker worker worker:make_engine` calls in each worker process."""
    schema = {"schema": os.environ["TASKER_SCHEMA"]} if os.environ.get("TASKER_SCHEMA") else {}  # default "tasker"
    engine = tasker.Engine(database_url=os.environ["DATABASE_URL"], **schema)
    engine.register_template(TEMPLATE)
    engine.register_handlers(ValidateOrder, ReserveInventory, ProcessPayment, ShipOrder)
    return engine


def create_orders(engine: tasker.Engine, count: int) -> list:
    orders = [{"id": 2000 + n, "total": 19.90, "items": [{"sku": "TSK-2", "quantity": 1}]} for n in range(count)]
    return [engine.create_task("order_fulfillment", namespace="fulfillment", initiator="examples/python/worker.py",
                               context={"order": order}).uuid for order in orders]


if __name__ == "__main__":
    with make_engine() as engine:
        for uuid in create_orders(engine, int(sys.argv[1]) if len(sys.argv) > 1 else 1):
            print(f"created order task {uuid}")
