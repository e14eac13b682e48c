"""A real Celery worker against a real Redis runs a workflow whose payment step fails once and is retried after a
delayed re-enqueue (apply_async countdown)."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ORDER_CONTEXT, ORDER_TEMPLATE

REDIS_URL = os.environ.get("TASKER_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="TASKER_TEST_REDIS_URL is not set (./build.sh test starts Redis)")


@pytest.fixture
def worker():
    import redis
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {**os.environ, "TASKER_TEST_TEMPLATE": str(ORDER_TEMPLATE),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
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


def test_a_celery_worker_runs_the_workflow_and_reenqueues_the_retry_with_its_delay(worker):
    import redis
    sys.path.insert(0, str(Path(__file__).parent))
    os.environ.setdefault("TASKER_TEST_TEMPLATE", str(ORDER_TEMPLATE))
    from celery_app import start_order

    started = time.monotonic()
    task_uuid = start_order.delay(ORDER_CONTEXT).get(timeout=60)
    client = redis.Redis.from_url(REDIS_URL)
    outcomes = []
    while time.monotonic() - started < 60:
        outcomes = [o.decode() for o in client.lrange(f"tasker-test:{task_uuid}", 0, -1)]
        if outcomes and outcomes[-1].startswith("complete"):
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    actions = [o.split(":")[0] for o in outcomes]
    assert actions == ["reenqueue", "complete"], outcomes
    assert float(outcomes[0].split(":")[1]) == pytest.approx(2, abs=0.1)  # the handler's retry_after
    assert elapsed >= 1.9, "the retry must wait for the countdown"
