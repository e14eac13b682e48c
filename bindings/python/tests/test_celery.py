"""A real Celery worker process against a real Redis (the adapter in tasker.celery). The worker owns the engines
(memory store); it publishes each outcome to Redis, where the tests read it."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tasker

from conftest import ORDER_CONTEXT, ORDER_TEMPLATE

REDIS_URL = os.environ.get("TASKER_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="TASKER_TEST_REDIS_URL is not set (./build.sh test starts Redis)")
TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def worker():
    import redis
    redis.Redis.from_url(REDIS_URL).flushdb()
    os.environ.setdefault("TASKER_TEST_TEMPLATE", str(ORDER_TEMPLATE))
    sys.path.insert(0, str(TESTS))
    env = {**os.environ, "TASKER_TEST_TEMPLATE": str(ORDER_TEMPLATE),
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "--pool=solo", "--concurrency=1",
         "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def log_of(task_uuid, until, timeout=60):
    """What the worker logged for a task, once its last entry starts with ``until`` (or the time is up)."""
    import redis
    client = redis.Redis.from_url(REDIS_URL)
    deadline = time.monotonic() + timeout
    entries = []
    while time.monotonic() < deadline:
        entries = [e.decode() for e in client.lrange(f"tasker-test:{task_uuid}", 0, -1)]
        if entries and entries[-1].startswith(until):
            break
        time.sleep(0.1)
    return entries


def test_a_celery_worker_runs_the_workflow_and_reenqueues_the_retry_with_its_delay(worker):
    from celery_app import start_order

    started = time.monotonic()
    task_uuid = start_order.delay(ORDER_CONTEXT).get(timeout=60)
    entries = log_of(task_uuid, "complete")
    elapsed = time.monotonic() - started
    assert [e.split(":")[0] for e in entries] == ["reenqueue", "complete"], entries
    assert float(entries[0].split(":")[1]) == pytest.approx(2, abs=0.1)  # the handler's retry_after
    assert elapsed >= 1.9, "the retry must wait for the countdown"


def test_a_transient_database_error_is_retried_by_celery_and_the_workflow_completes(worker):
    from celery_app import start_order_on_flaky_database

    task_uuid = start_order_on_flaky_database.delay(ORDER_CONTEXT).get(timeout=60)
    assert log_of(task_uuid, "complete") == ["database-error", "complete:None"]


def test_the_sweeper_reenqueues_a_due_retry_nobody_was_driving(worker):
    from celery_app import start_and_forget, sweep

    task_uuid = start_and_forget.delay(ORDER_CONTEXT).get(timeout=60)
    assert log_of(task_uuid, "reenqueue") == ["reenqueue:2.0"]
    assert task_uuid not in sweep.delay().get(timeout=30)  # not due yet
    time.sleep(2.1)
    assert task_uuid in sweep.delay().get(timeout=30)
    assert log_of(task_uuid, "complete") == ["reenqueue:2.0", "complete:None"]


def test_a_workflow_that_ends_in_error_fails_its_celery_job_once_naming_the_failed_step(worker):
    from celery_app import create_order, handle_declined

    task_uuid = create_order.delay(ORDER_CONTEXT).get(timeout=60)
    result = handle_declined.delay(task_uuid)
    with pytest.raises(tasker.WorkflowFailedError) as failed:
        result.get(timeout=60)
    assert result.state == "FAILURE"
    assert str(failed.value) == (f"task {task_uuid} (fulfillment/order_fulfillment) ended in error: "
                                 "process_payment: PermanentError: card declined")
    time.sleep(1.5)  # Celery does not retry it: the task was handled once
    assert log_of(task_uuid, "error") == ["error:None"]
    assert result.state == "FAILURE"


def test_with_fail_on_error_off_an_errored_workflow_is_a_successful_celery_job(worker):
    from celery_app import create_order, handle_declined_quietly

    task_uuid = create_order.delay(ORDER_CONTEXT, quietly=True).get(timeout=60)
    result = handle_declined_quietly.delay(task_uuid)
    answer = result.get(timeout=60)
    assert result.state == "SUCCESS"
    assert (answer["action"], answer["task_state"]) == ("error", "error")


def test_an_operator_retry_reenqueues_the_task_through_celery_and_it_completes(worker):
    from celery_app import create_order, handle_declined, retry_declined

    task_uuid = create_order.delay(ORDER_CONTEXT).get(timeout=60)
    with pytest.raises(tasker.WorkflowFailedError):
        handle_declined.delay(task_uuid).get(timeout=60)
    assert retry_declined.delay(task_uuid).get(timeout=30) == "execute"
    assert log_of(task_uuid, "complete") == ["error:None", "complete:None"]
