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
