"""The Celery app the Celery test runs in a real worker process (memory store: the worker owns the engine)."""
import os

import redis
from celery import Celery

import tasker
import tasker.celery

BROKER = os.environ["TASKER_TEST_REDIS_URL"]
app = Celery("tasker_test", broker=BROKER, backend=BROKER)
app.conf.update(worker_hijack_root_logger=False, broker_connection_retry_on_startup=True)

TEMPLATE = os.environ["TASKER_TEST_TEMPLATE"]


class Step(tasker.StepHandler):
    def process(self, context):
        return {"step": context.step.name}


class FlakyPayment(tasker.StepHandler):
    """Fails its first attempt, asking to be retried in 2 s: the task must come back through Celery's countdown."""

    def process(self, context):
        if context.step.attempt == 1:
            raise tasker.RetryableError("gateway timeout", retry_after=2)
        return {"paid": True}


def open_engine():
    engine = tasker.Engine()
    engine.register_template(TEMPLATE)
    for name in ("ValidateOrder", "ReserveInventory", "ShipOrder"):
        engine.register_handler(name, Step)
    engine.register_handler("ProcessPayment", FlakyPayment)
    return engine


def record(task_uuid, outcome):
    """The test process cannot see the worker's memory store: publish each outcome to Redis."""
    redis.Redis.from_url(BROKER).rpush(f"tasker-test:{task_uuid}", f"{outcome.action}:{outcome.delay_seconds}")


handle_task = tasker.celery.register(app, open_engine, on_outcome=record)


@app.task(name="tasker_test.start_order")
def start_order(context):
    return tasker.celery.start_workflow(handle_task, "order_fulfillment", namespace="fulfillment",
                                        context=context).uuid
