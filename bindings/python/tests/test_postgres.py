"""PostgreSQL mode: the same engine API on a durable store shared by processes."""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import tasker
from conftest import ORDER_CONTEXT, database_url, register_order_handlers


def open_pg_engine(schema):
    return tasker.Engine(database_url=database_url(), schema=schema)


def test_a_workflow_completes_on_postgresql_and_is_visible_to_another_engine():
    schema = f"py_{uuid.uuid4().hex[:12]}"
    with open_pg_engine(schema) as engine:
        register_order_handlers(engine)
        task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
        assert engine.handle(task.uuid).action == "complete"
    with open_pg_engine(schema) as other:  # a new connection pool, as another process would have
        seen = other.get_task(task.uuid)
        assert seen.state == "complete"
        assert [s.attempts for s in seen.steps] == [1, 1, 1, 1]
        assert any(t["to"] == "complete" and t["step_name"] is None for t in seen.transitions)


def test_another_process_finishes_a_task_created_here():
    """Processes share tasks through the database: a second OS process (a fresh interpreter, as a queue worker
    would be) runs the workflow this process created."""
    schema = f"py_{uuid.uuid4().hex[:12]}"
    with open_pg_engine(schema) as engine:
        register_order_handlers(engine)
        task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
    script = (
        "import sys, tasker\n"
        "from conftest import register_order_handlers\n"
        "with tasker.Engine(database_url=sys.argv[1], schema=sys.argv[2]) as e:\n"
        "    register_order_handlers(e)\n"
        "    sys.exit(0 if e.handle(sys.argv[3]).action == 'complete' else 2)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    worker = subprocess.run([sys.executable, "-c", script, database_url(), schema, task.uuid], env=env, timeout=120)
    assert worker.returncode == 0
    with open_pg_engine(schema) as engine:
        assert engine.get_task(task.uuid).state == "complete"


def test_handle_async_runs_a_workflow_on_postgresql():
    import asyncio

    class AsyncShip(tasker.StepHandler):
        async def process(self, context):
            await asyncio.sleep(0)
            return {"tracking": "T-1"}

    with open_pg_engine(f"py_{uuid.uuid4().hex[:12]}") as engine:
        register_order_handlers(engine)
        engine.register_handler("ShipOrder", AsyncShip)
        task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
        assert asyncio.run(engine.handle_async(task.uuid)).action == "complete"
        assert engine.get_task(task.uuid).step("ship_order").result == {"tracking": "T-1"}


def test_two_engines_driving_one_task_at_once_run_each_step_once_and_finalize_it_once():
    import threading
    schema = f"py_{uuid.uuid4().hex[:12]}"
    with open_pg_engine(schema) as first, open_pg_engine(schema) as second:
        for engine in (first, second):
            register_order_handlers(engine)
        task = first.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
        start = threading.Barrier(2)
        outcomes = []

        def drive(engine):
            start.wait()
            outcomes.append(engine.handle(task.uuid))

        threads = [threading.Thread(target=drive, args=(e,)) for e in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        done = first.get_task(task.uuid)
    assert done.state == "complete"
    assert [s.attempts for s in done.steps] == [1, 1, 1, 1]
    assert sum(o.finalized for o in outcomes) == 1


def test_an_unreachable_database_raises_database_error_without_the_password():
    import pytest
    with pytest.raises(tasker.DatabaseError) as info:
        tasker.Engine(database_url="postgres://shop:s3cret-pw@127.0.0.1:1/shop")
    assert "s3cret-pw" not in str(info.value) and "s3cret-pw" not in repr(info.value.details)
    assert "127.0.0.1:1" in str(info.value)
