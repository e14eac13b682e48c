"""Celery integration: a Celery task that drives a Tasker task and re-enqueues it when the outcome says so (one
rule: ``outcome.requeue_after_seconds`` is not None -> enqueue the task again with that countdown).

    from celery import Celery
    import tasker, tasker.celery

    app = Celery("shop", broker="redis://localhost:6379/0")

    def open_engine() -> tasker.Engine:          # called once per worker process, after fork
        engine = tasker.Engine(database_url=os.environ["DATABASE_URL"])
        engine.register_templates("config/tasker")
        engine.register_handlers(ValidateOrder, ReserveInventory, ProcessPayment, ShipOrder)
        return engine

    handle_task = tasker.celery.register(app, open_engine)
    sweep = tasker.celery.register_sweeper(app, handle_task)    # schedule it with Celery beat, e.g. every minute

    # an operator's retry of a failed task, re-enqueued at once:
    tasker.celery.retry(handle_task, task_uuid, actor="alice", reason="card limit raised")

    # in a web request:
    task = tasker.celery.start_workflow(handle_task, "order_fulfillment", namespace="fulfillment", context={...})

This module never imports Celery itself (you pass your app), and ``import tasker`` never imports this module.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable

from .engine import Engine
from .errors import DatabaseError, TimeoutError, WorkflowFailedError
from .outcome import Outcome, Task

__all__ = ["register", "register_sweeper", "start_workflow", "retry", "DEFAULT_TASK_OPTIONS"]

#: Options of the handling task unless ``register`` is given others. Handling is idempotent (only ready steps are
#: claimed; a crashed worker's steps become claimable when their lease expires), so a message may be delivered
#: again safely: ack it after handling, so a worker that dies mid-task does not lose it, and retry the transient
#: core errors (the database unreachable or slow) with backoff instead of dropping the task. A workflow that ended
#: in ``error`` (``WorkflowFailedError``) is not retried: the task is finished, running it again changes nothing.
DEFAULT_TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (DatabaseError, TimeoutError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 10,
}


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
                # The parent's engine (if this process forked) is dropped, never freed here: its finalizer knows it
                # belongs to another process.
                self._engine = self._factory()
                self._pid = os.getpid()
            return self._engine


def register(app: Any, engine_factory: Callable[[], Engine], *, name: str = "tasker.handle_task",
             on_outcome: Callable[[str, Outcome], None] | None = None, fail_on_error: bool = True,
             **task_options: Any) -> Any:
    """Registers the Celery task ``name`` on ``app``: ``handle(task_uuid)``, then, when
    ``outcome.requeue_after_seconds`` is not None, enqueue itself again with that countdown (0 when steps became
    ready meanwhile; a retry's delay; the engine's ``missing_handler_requeue_seconds`` when ready steps wait for a
    handler only other workers have, so the queue hands the task to one of them). ``on_outcome(task_uuid,
    outcome)`` runs after every handling (metrics, notifications). With ``fail_on_error`` (the default), a handling
    whose task ended in ``error`` raises ``tasker.WorkflowFailedError`` naming the failed steps, so Celery records the
    job as FAILURE (Flower, result backends, error trackers see it); Celery does not retry it (it is not in
    ``autoretry_for``). ``fail_on_error=False`` returns the outcome's summary instead, as a success.
    ``task_options`` go to ``app.task`` and override ``DEFAULT_TASK_OPTIONS`` (e.g. ``queue="tasker"``). Returns the
    Celery task; ``task.tasker_engine()`` is this process's engine (opened by ``engine_factory`` on first use)."""
    engines = _EnginePerProcess(engine_factory)

    @app.task(name=name, bind=True, **{**DEFAULT_TASK_OPTIONS, **task_options})  # type: ignore[misc]
    def handle_task(self: Any, task_uuid: str, traceparent: str | None = None) -> dict[str, Any]:
        # traceparent (W3C): the caller's span, so this job's step spans join its trace; passed on when re-enqueued.
        engine = engines.get()
        outcome = engine.handle(task_uuid, traceparent=traceparent) if traceparent else engine.handle(task_uuid)
        if outcome.requeue_after_seconds is not None:  # the engine's call, the same in every queue adapter
            self.apply_async((task_uuid, traceparent), countdown=outcome.requeue_after_seconds)
        if on_outcome is not None:
            on_outcome(task_uuid, outcome)
        if fail_on_error and outcome.action == "error":
            raise WorkflowFailedError.for_task(engine.get_task(task_uuid))
        return {"task_uuid": task_uuid, "action": outcome.action, "task_state": outcome.task_state,
                "delay_seconds": outcome.delay_seconds, "requeue_after_seconds": outcome.requeue_after_seconds}

    handle_task.tasker_engine = engines.get
    return handle_task


def register_sweeper(app: Any, handle_task: Any, *, name: str = "tasker.sweep_stale_work", limit: int = 1000,
                     **task_options: Any) -> Any:
    """Registers a Celery task that re-enqueues work nobody is driving: tasks whose retry time has come and steps
    whose worker died (their lease expired), as ``engine.stale_work()`` lists them. Schedule it with Celery beat
    (e.g. every minute). It returns the task uuids it enqueued. With the memory store it only sees the tasks of the
    worker process it runs in; with PostgreSQL, all of them."""

    @app.task(name=name, **task_options)  # type: ignore[misc]
    def sweep_stale_work() -> list[str]:
        uuids = handle_task.tasker_engine().stale_work(limit)["task_uuids"]
        for task_uuid in uuids:
            handle_task.delay(task_uuid)
        return list(uuids)

    return sweep_stale_work


def start_workflow(handle_task: Any, name: str, *, namespace: str, engine: Engine | None = None,
                   **create_options: Any) -> Task:
    """Creates a task (``create_options`` as ``Engine.create_task``: ``context``, ``version``, ``idempotency_key``,
    ...) and enqueues its first handling; returns the task (its ``uuid`` is what you hand back to the client). Uses
    ``engine`` or the one ``handle_task`` opens in this process. Web and worker processes share tasks only through
    PostgreSQL: a memory-store engine is private to its process. A ``traceparent`` create option also travels with
    the job, so the worker's spans join the caller's trace."""
    engine = engine or handle_task.tasker_engine()
    task = engine.create_task(name, namespace=namespace, **create_options)
    handle_task.delay(task.uuid, create_options.get("traceparent"))
    return task


def retry(handle_task: Any, task_uuid: str, *, engine: Engine | None = None, actor: str | None = None,
          reason: str | None = None) -> Outcome:
    """An operator's retry that also drives the task: ``engine.retry_task`` (failed steps get fresh attempts,
    completed steps keep their results; ``actor`` and ``reason`` go to the audit trail), then, following the
    adapter's one rule, enqueues ``handle_task`` for it when ``outcome.requeue_after_seconds`` is not None (0 when
    steps are ready: an ``execute`` outcome). Returns the retry's outcome. Uses ``engine`` or the one
    ``handle_task`` opens in this process (with the memory store only that process sees the task)."""
    engine = engine or handle_task.tasker_engine()
    outcome = engine.retry_task(task_uuid, actor=actor, reason=reason)
    if outcome.requeue_after_seconds is not None:
        handle_task.apply_async((str(task_uuid), None), countdown=outcome.requeue_after_seconds)
    return outcome
