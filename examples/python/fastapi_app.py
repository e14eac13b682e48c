"""FastAPI + Celery + Tasker: a web endpoint starts an order-fulfillment workflow, a Celery worker runs it, another
endpoint shows its state. Web and workers share tasks through PostgreSQL.

    export DATABASE_URL=postgres://user@localhost/shop CELERY_BROKER_URL=redis://localhost:6379/0
    export TASKER_LIBRARY_PATH=$PWD/artifacts/lib/linux-x64/libtasker.so PYTHONPATH=bindings/python/src:examples/python
    celery -A fastapi_app worker --pool=threads      # the worker (opens its own engine per process)
    celery -A fastapi_app beat                       # optional: sweeps stale work every minute
    uvicorn fastapi_app:api                          # the web app
    curl -XPOST localhost:8000/orders -d '{"id": 1, "total": 9.5, "items": [{"sku": "A", "quantity": 1}]}'
    curl localhost:8000/orders/<task_uuid>
"""
import os
from pathlib import Path
from typing import Any

from celery import Celery
from fastapi import FastAPI, HTTPException, Response

import tasker
import tasker.celery
from order_fulfillment import ProcessPayment, ReserveInventory, ShipOrder, ValidateOrder

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "order_fulfillment.yaml"

celery_app = Celery("shop", broker=os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0"))


def open_engine() -> tasker.Engine:
    """One engine per process (web or worker), opened on first use, after any fork."""
    engine = tasker.Engine(database_url=os.environ["DATABASE_URL"], schema=os.environ.get("TASKER_SCHEMA"))
    engine.register_template(TEMPLATE)
    engine.register_handlers(ValidateOrder, ReserveInventory, ProcessPayment, ShipOrder)
    return engine


handle_task = tasker.celery.register(celery_app, open_engine)
# Re-enqueues work nobody is driving (a retry whose message was lost, a step whose worker died): run it with beat.
sweep_stale_work = tasker.celery.register_sweeper(celery_app, handle_task)
celery_app.conf.beat_schedule = {"tasker-sweep": {"task": sweep_stale_work.name, "schedule": 60.0}}
api = FastAPI(title="shop")


@api.post("/orders", status_code=202)
def create_order(order: dict[str, Any]) -> dict[str, str]:
    try:
        task = tasker.celery.start_workflow(handle_task, "order_fulfillment", namespace="fulfillment",
                                            context={"order": order}, initiator="api", source_system="shop-web")
    except tasker.ValidationError as e:
        raise HTTPException(status_code=422, detail=e.message) from None
    return {"task_uuid": task.uuid}


@api.get("/orders/{task_uuid}")
def order_state(task_uuid: str) -> dict[str, Any]:
    try:
        task = handle_task.tasker_engine().get_task(task_uuid)
    except (tasker.NotFoundError, tasker.ValidationError):
        raise HTTPException(status_code=404, detail="no such order workflow") from None
    return {"state": task.state, "steps": {s.name: s.state for s in task.steps}}


@api.get("/health")
def health(response: Response) -> dict[str, Any]:
    """The engine's health and stats; 503 when the store (PostgreSQL) is unreachable."""
    report = handle_task.tasker_engine().health()
    if not report["healthy"]:
        response.status_code = 503
    return report
