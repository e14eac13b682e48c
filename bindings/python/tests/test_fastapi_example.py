"""The FastAPI example end to end: POST an order; a real Celery worker (real Redis) runs it on PostgreSQL,
including the payment step's delayed retry; GET shows it complete."""
import os
import subprocess
import sys
import time
import uuid

import pytest

from conftest import REPO, database_url

pytest.importorskip("fastapi")
REDIS_URL = os.environ.get("TASKER_TEST_REDIS_URL")


@pytest.fixture
def app_env(monkeypatch):
    if not REDIS_URL:
        pytest.skip("TASKER_TEST_REDIS_URL is not set (./build.sh test starts Redis)")
    env = {"DATABASE_URL": database_url(), "TASKER_SCHEMA": f"api_{uuid.uuid4().hex[:12]}",
           "CELERY_BROKER_URL": REDIS_URL}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    examples = str(REPO / "examples" / "python")
    monkeypatch.syspath_prepend(examples)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "fastapi_app", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env={**os.environ, **env, "PYTHONPATH": os.pathsep.join([examples, os.environ.get("PYTHONPATH", "")])})
    yield
    worker.terminate()
    worker.wait(timeout=20)
    sys.modules.pop("fastapi_app", None)


def test_post_an_order_then_read_its_completed_state(app_env):
    from fastapi.testclient import TestClient
    import fastapi_app

    client = TestClient(fastapi_app.api)
    created = client.post("/orders", json={"id": 5, "total": 10, "items": [{"sku": "A", "quantity": 1}]})
    assert created.status_code == 202
    url = f"/orders/{created.json()['task_uuid']}"
    deadline = time.monotonic() + 60
    while client.get(url).json()["state"] != "complete" and time.monotonic() < deadline:
        time.sleep(0.2)
    state = client.get(url).json()
    assert state == {"state": "complete", "steps": {
        "validate_order": "complete", "reserve_inventory": "complete", "process_payment": "complete",
        "ship_order": "complete"}}
    assert client.post("/orders", json={"id": "not a number"}).status_code == 422
    assert client.get(f"/orders/{uuid.uuid4()}").status_code == 404
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["healthy"] is True
