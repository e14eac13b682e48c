"""The Celery app the Celery tests run in a real worker process (memory store: the worker owns the engines)."""
import os

import redis
from celery import Celery

import tasker
import tasker.celery

BROKER = os.environ["TASKER_TEST_REDIS_URL"]
app = Celery("tasker_test", broker=BROKER, backend=BROKER)
app.conf.update(worker_hijack_root_logger=False, broker_connection_retry_on_startup=True)

TEMPLATE = os.environ["TASKER_TEST_TEMPLATE"]


def log(task_uuid, entry):
    """The test process cannot see the worker's memory store: the worker publishes what happens to Redis."""
    redis.Redis.from_url(BROKER).rpush(f"tasker-test:{task_uuid}", entry)


class Step(tasker.StepHandler):
    def process(self, context):
        return {"step": context.step.name}


class FlakyPayment(tasker.StepHandler):
    """Fails its first attempt, asking to be retried in 2 s: the task must come back through Celery's countdown."""

    def process(self, context):
        if context.step.attempt == 1:
            raise tasker.RetryableError("gateway timeout", retry_after=2)
        return {"paid": True}


class DatabaseDropsOnce(tasker.Engine):
    """An engine whose first handle() fails as a dropped database connection would (DatabaseError)."""

    dropped = False

    def handle(self, task_uuid):
        if not DatabaseDropsOnce.dropped:
            DatabaseDropsOnce.dropped = True
            log(task_uuid, "database-error")
            raise tasker.DatabaseError("database unavailable in 'claim': connection reset")
        return super().handle(task_uuid)


class DeclinedOnce(tasker.StepHandler):
    """Declines each task's card the first time (a permanent failure: the workflow ends in error); an operator's
    retry then succeeds."""

    declined: set[str] = set()

    def process(self, context):
        if context.task.uuid not in DeclinedOnce.declined:
            DeclinedOnce.declined.add(context.task.uuid)
            raise tasker.PermanentError("card declined")
        return {"paid": True}


def open_engine(engine_class=tasker.Engine, payment=FlakyPayment):
    engine = engine_class()
    engine.register_template(TEMPLATE)
    for name in ("ValidateOrder", "ReserveInventory", "ShipOrder"):
        engine.register_handler(name, Step)
    engine.register_handler("ProcessPayment", payment)
    return engine


def record(task_uuid, outcome):
    log(task_uuid, f"{outcome.action}:{outcome.delay_seconds}")


handle_task = tasker.celery.register(app, open_engine, on_outcome=record)
sweep = tasker.celery.register_sweeper(app, handle_task)
handle_on_flaky_database = tasker.celery.register(
    app, lambda: open_engine(DatabaseDropsOnce, Step), name="tasker_test.handle_on_flaky_database",
    on_outcome=record, retry_backoff=False, default_retry_delay=0.5)


# A workflow that ends in error: the job fails (fail_on_error, the default), or succeeds with the option off.
handle_declined = tasker.celery.register(app, lambda: open_engine(payment=DeclinedOnce),
                                         name="tasker_test.handle_declined", on_outcome=record)
handle_declined_quietly = tasker.celery.register(app, lambda: open_engine(payment=DeclinedOnce),
                                                 name="tasker_test.handle_declined_quietly", on_outcome=record,
                                                 fail_on_error=False)


@app.task(name="tasker_test.create_order")
def create_order(context, quietly=False):
    """Creates a task in the worker's engine without enqueuing it: the test enqueues the job and watches it."""
    handle = handle_declined_quietly if quietly else handle_declined
    return handle.tasker_engine().create_task("order_fulfillment", namespace="fulfillment", context=context).uuid


@app.task(name="tasker_test.retry_declined")
def retry_declined(task_uuid):
    """An operator's retry, made in the worker (its memory store holds the task)."""
    return tasker.celery.retry(handle_declined, task_uuid, actor="ops", reason="card replaced").action


@app.task(name="tasker_test.start_order")
def start_order(context):
    return tasker.celery.start_workflow(handle_task, "order_fulfillment", namespace="fulfillment",
                                        context=context).uuid


@app.task(name="tasker_test.start_order_on_flaky_database")
def start_order_on_flaky_database(context):
    return tasker.celery.start_workflow(handle_on_flaky_database, "order_fulfillment", namespace="fulfillment",
                                        context=context).uuid


@app.task(name="tasker_test.start_and_forget")
def start_and_forget(context):
    """Creates and handles a task in this worker, then drops the reenqueue on the floor (as a lost message would):
    only the sweeper can bring it back."""
    engine = handle_task.tasker_engine()
    task = engine.create_task("order_fulfillment", namespace="fulfillment", context=context)
    outcome = engine.handle(task.uuid)
    log(task.uuid, f"{outcome.action}:{outcome.delay_seconds}")
    return task.uuid
