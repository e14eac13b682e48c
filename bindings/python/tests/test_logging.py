"""The engine's log records, pulled as ``log.*`` events (engine config ``log={"sink": "events"}``)."""
import pytest

import tasker
from conftest import ORDER_CONTEXT, register_order_handlers


class Declined(tasker.StepHandler):
    def process(self, context):
        raise tasker.PermanentError("card 4111-1111-1111-1111 declined")


def test_log_records_are_events_a_subscriber_pulls_and_never_carry_handler_messages():
    with tasker.Engine(log={"level": "information", "sink": "events"}) as engine, engine.subscribe("log.*") as logs:
        register_order_handlers(engine, payment=Declined)
        task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
        assert engine.handle(task.uuid).action == "error"
        records = list(logs)
    failed = [r for r in records if r["name"] == "log.warning"]
    assert len(failed) == 1
    assert failed[0]["data"]["category"] == "Tasker.Engine"
    assert failed[0]["data"]["step_name"] == "process_payment" and failed[0]["task_uuid"] == task.uuid
    assert "PermanentError" in failed[0]["data"]["message"]
    assert any(r["data"]["event_id"] == 1003 and r["data"]["state"] == "error" for r in records)
    assert not any("4111" in r["data"]["message"] for r in records)


def test_below_the_level_nothing_is_published():
    with tasker.Engine(log={"level": "error", "sink": "events"}) as engine, engine.subscribe("log.*") as logs:
        register_order_handlers(engine, payment=Declined)
        task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
        engine.handle(task.uuid)
        assert logs.pull() == []


def test_an_unknown_log_level_is_refused_when_the_engine_opens():
    with pytest.raises(tasker.ValidationError, match="log.level"):
        tasker.Engine(log={"level": "loud"}).health()


def test_the_stderr_sink_writes_one_line_per_record_with_level_category_and_id():
    import os
    import subprocess
    import sys
    from pathlib import Path
    script = (
        "import logging, tasker\n"
        "logging.getLogger('tasker').setLevel('ERROR')  # the host-side step failure warnings: not this test's\n"
        "from conftest import ORDER_CONTEXT, register_order_handlers\n"
        "from test_logging import Declined\n"
        "with tasker.Engine(log={'level': 'warning', 'sink': 'stderr'}) as engine:\n"
        "    register_order_handlers(engine, payment=Declined)\n"
        "    task = engine.create_task('order_fulfillment', namespace='fulfillment', context=ORDER_CONTEXT)\n"
        "    engine.handle(task.uuid)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stderr.splitlines() if " tasker " in line]
    assert len(lines) == 1, run.stderr
    assert " tasker warning Tasker.Engine[1005]: Step process_payment of task " in lines[0]
    assert "4111" not in run.stderr and run.stdout == ""


class Flaky(tasker.StepHandler):
    def process(self, context):
        if context.step.attempt == 1:
            raise ConnectionError("gateway reset")
        return {"paid": True}


def test_each_failed_step_attempt_is_a_warning_on_the_tasker_logger_without_context_or_results(caplog):
    with tasker.Engine(clock="manual", backoff={"jitter": 0}) as engine:
        register_order_handlers(engine, payment=Flaky)
        task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
        with caplog.at_level("WARNING", logger="tasker"):
            assert engine.handle(task.uuid).action == "reenqueue"
            engine.advance_clock(5)
            assert engine.handle(task.uuid).action == "complete"
    records = [r for r in caplog.records if r.name == "tasker"]
    assert len(records) == 1  # one failed attempt: the second succeeded
    record = records[0]
    assert record.levelname == "WARNING"
    assert record.getMessage() == (f"step process_payment of task {task.uuid} (fulfillment/order_fulfillment) "
                                   "failed, attempt 1 of 3: ConnectionError: gateway reset")
    assert (record.tasker_task_uuid, record.tasker_step, record.tasker_attempt, record.tasker_error_type) == (
        task.uuid, "process_payment", 1, "ConnectionError")
    assert "12.5" not in caplog.text and "sku" not in caplog.text  # neither the context nor a result


def test_step_failures_from_handle_async_are_logged_too_and_the_logger_level_silences_them(caplog):
    import asyncio

    with tasker.Engine(clock="manual") as engine:
        register_order_handlers(engine, payment=Declined)
        first = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
        second = engine.create_task("order_fulfillment", namespace="fulfillment", context={**ORDER_CONTEXT, "n": 2})
        with caplog.at_level("WARNING", logger="tasker"):
            assert asyncio.run(engine.handle_async(first.uuid)).action == "error"
        with caplog.at_level("ERROR", logger="tasker"):
            assert engine.handle(second.uuid).action == "error"
    messages = [r.getMessage() for r in caplog.records if r.name == "tasker"]
    assert len(messages) == 1 and first.uuid in messages[0]
    assert "PermanentError: card 4111-1111-1111-1111 declined" in messages[0]
