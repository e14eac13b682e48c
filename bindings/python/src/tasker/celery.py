"""Celery integration: a Celery task that drives a Tasker task and re-enqueues it when the outcome says so.

    from celery import Celery
    import tasker, tasker.celery

    app = Celery("shop", broker="redis://localhost:6379/0")

    def open_engine() -> tasker.Engine:          # called once per worker process, after fork
        engine = tasker.Engine(database_url=os.environ["DATABASE_URL"])
        engine.register_template("config/tasker/order_fulfillment.yaml")
        engine.register_handler("ValidateOrder", ValidateOrder)
        return engine

    handle_task = tasker.celery.register(app, open_engine)

    # in a web request:
    task = tasker.celery.start_workflow(handle_task, "order_fulfillment", namespace="fulfillment", context={...})

Celery is imported by the caller: ``import tasker`` never needs it.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable

from .engine import Engine
from .outcome import Outcome, Task

__all__ = ["register", "start_workflow"]


class _EnginePerProcess:
    """Opens the engine lazily in each worker process (an engine must not cross a fork)."""

    def __init__(self, factory: Callable[[], Engine]):
        self._factory = factory
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._pid = 0

    def get(self) -> Engine:
        with self._lock:
            if self._engine is None or self._pid != os.getpid():
                self._engine = self._factory()
                self._pid = os.getpid()
            return self._engine


def register(app: Any, engine_factory: Callable[[], Engine], *, name: str = "tasker.handle_task",
             on_outcome: Callable[[str, Outcome], None] | None = None, **task_options: Any) -> Any:
    """Registers ``name`` on ``app``: handle(task_uuid), then re-enqueue with ``countdown=delay_seconds`` when the
    outcome is ``reenqueue``. ``on_outcome(task_uuid, outcome)`` runs after every handling (metrics, notifications).
    Returns the Celery task; ``engine_factory`` is reachable as ``task.tasker_engine()``."""
    engines = _EnginePerProcess(engine_factory)

    @app.task(name=name, bind=True, **task_options)
    def handle_task(self: Any, task_uuid: str) -> dict[str, Any]:
        outcome = engines.get().handle(task_uuid)
        if outcome.action == "reenqueue":
            self.apply_async((task_uuid,), countdown=outcome.delay_seconds or 0)
        if on_outcome is not None:
            on_outcome(task_uuid, outcome)
        return {"task_uuid": task_uuid, "action": outcome.action, "task_state": outcome.task_state,
                "delay_seconds": outcome.delay_seconds}

    handle_task.tasker_engine = engines.get
    return handle_task


def start_workflow(handle_task: Any, name: str, *, namespace: str, context: dict[str, Any] | None = None,
                   engine: Engine | None = None, **fields: Any) -> Task:
    """Creates a task and enqueues its first handling; returns the task (its ``uuid`` is what you hand back to
    the client). Uses ``engine`` or the one ``handle_task`` opens in this process."""
    engine = engine or handle_task.tasker_engine()
    task = engine.create_task(name, namespace=namespace, context=context, **fields)
    handle_task.delay(task.uuid)
    return task
