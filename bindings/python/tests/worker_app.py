"""The application the worker-process tests start with ``python -m tasker worker worker_app:make_worker``: the order
workflow on PostgreSQL, each handler logging when it starts and ends (to check that every step runs once per
attempt), configured by environment variables the tests set."""
import os
import time

import tasker
from conftest import register_order_handlers


class Recording(tasker.StepHandler):
    """Appends "<pid> start|end <task> <step> <attempt>" to WORKER_RUNS_LOG around WORKER_SLEEP seconds of work."""

    def process(self, context):
        _record("start", context)
        time.sleep(float(os.environ.get("WORKER_SLEEP", "0")))
        _record("end", context)
        return {"step": context.step.name, "pid": os.getpid()}


class AsyncRecording(tasker.StepHandler):
    """Recording as an ``async def`` handler: the command then runs the worker on an event loop."""

    async def process(self, context):
        import asyncio
        _record("start", context)
        await asyncio.sleep(float(os.environ.get("WORKER_SLEEP", "0")))
        _record("end", context)
        return {"step": context.step.name, "pid": os.getpid(), "async": True}


def _record(what, context):
    path = os.environ.get("WORKER_RUNS_LOG")
    if path:
        line = f"{os.getpid()} {what} {context.task.uuid} {context.step.name} {context.step.attempt}\n"
        with open(path, "a", encoding="utf-8") as log:  # one short O_APPEND write per line: lines never interleave
            log.write(line)


def make_engine():
    engine = tasker.Engine(database_url=os.environ["TASKER_TEST_DATABASE_URL"], schema=os.environ["WORKER_SCHEMA"],
                           pool_size=4)
    register_order_handlers(engine, payment=Recording)
    for name in ("ValidateOrder", "ReserveInventory", "ShipOrder"):
        engine.register_handler(name, Recording)
    if os.environ.get("WORKER_ASYNC"):
        engine.register_handler("ShipOrder", AsyncRecording)
    return engine


def make_worker():
    lease = os.environ.get("WORKER_LEASE")
    return tasker.Worker(make_engine(), concurrency=int(os.environ.get("WORKER_CONCURRENCY", "4")),
                         lease_seconds=None if lease is None else float(lease),
                         grace_seconds=float(os.environ.get("WORKER_GRACE", "10")), wait_seconds=1.0,
                         stats_seconds=float(os.environ.get("WORKER_STATS", "60")))
