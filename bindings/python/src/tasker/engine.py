"""The Engine: templates, tasks, and the handle loop that runs your step handlers."""
from __future__ import annotations

import asyncio
import inspect
import json
import os
import threading
import traceback
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

from . import _ffi
from .errors import InvalidHandleError, PermanentError, RetryableError, TaskerError, ValidationError
from .handler import StepContext, StepHandler
from .outcome import Outcome, Task


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _free_quietly(handle: int) -> None:
    try:
        _ffi.engine_free(handle)
    except TaskerError:
        pass


class Engine:
    """An embedded Tasker engine. The memory store by default; ``Engine(database_url=...)`` for PostgreSQL.

    Use it as a context manager (or call ``close``). One engine per process: after ``fork`` open a new one.
    Thread-safe: ``handle`` may run from several threads at once.
    """

    def __init__(self, database_url: str | None = None, *, concurrency: int = 8, worker_id: str | None = None,
                 **config: Any):
        if concurrency < 1:
            raise ValidationError("concurrency must be at least 1")
        if database_url is not None:
            config["database_url"] = database_url
        self._handle = _ffi.engine_open(_dumps(config))
        self._pid = os.getpid()
        self._handlers: dict[str, Any] = {}
        self._concurrency = concurrency
        self._worker_id = worker_id or f"python-{os.getpid()}"
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _free_quietly, self._handle)

    # ---- lifetime -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Releases the engine (idempotent)."""
        if self._finalizer.detach():
            if self._pool:
                self._pool.shutdown(wait=True)
            if os.getpid() == self._pid:
                _ffi.engine_free(self._handle)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _h(self) -> int:
        if not self._finalizer.alive:
            raise InvalidHandleError("the engine is closed")
        if os.getpid() != self._pid:
            raise TaskerError(
                f"this engine was opened in process {self._pid} and cannot be used after fork; "
                "open a new Engine in each worker process (e.g. in Celery's worker_process_init)")
        return self._handle

    def _call(self, name: str, payload: Any) -> Any:
        data = payload if isinstance(payload, bytes) else _dumps(payload)
        return json.loads(_ffi.call_json(name, self._h, data))

    # ---- templates and handlers ----------------------------------------------------------------------

    def register_template(self, source: str | os.PathLike[str]) -> dict[str, Any]:
        """Registers a template from a file path or from YAML/JSON text. Returns its namespace, name, version."""
        text = str(source)
        if isinstance(source, os.PathLike) or ("\n" not in text and Path(text).is_file()):
            text = Path(source).read_text(encoding="utf-8")
        return self._call("tasker_template_register", text.encode("utf-8"))

    def register_handler(self, name: str, handler: type[StepHandler] | StepHandler) -> None:
        """Registers the handler for ``handler: {callable: name}`` steps: a StepHandler subclass (one instance per
        step attempt) or an instance (shared). Only registered names ever run."""
        if not (isinstance(handler, StepHandler) or (isinstance(handler, type) and issubclass(handler, StepHandler))):
            raise ValidationError(f"handler for {name!r} must be a tasker.StepHandler subclass or instance")
        self._handlers[name] = handler

    # ---- tasks -------------------------------------------------------------------------------------

    def create_task(self, name: str, *, namespace: str, version: str | None = None,
                    context: dict[str, Any] | None = None, **fields: Any) -> Task:
        """Creates a task. ``fields``: initiator, source_system, reason, tags, priority, idempotency_key,
        correlation_id. ``task.created`` is False when an idempotency key matched an existing task."""
        request = {"name": name, "namespace": namespace, "context": context or {}, **fields}
        if version is not None:
            request["version"] = version
        answer = self._call("tasker_task_create", request)
        return Task.from_json(answer["task"], created=answer["created"])

    def get_task(self, task_uuid: str) -> Task:
        return Task.from_json(json.loads(_ffi.call_json("tasker_task_get", self._h, task_uuid.encode())))

    def list_tasks(self, *, state: str | None = None, namespace: str | None = None, name: str | None = None,
                   limit: int = 100) -> list[dict[str, Any]]:
        query = {k: v for k, v in {"state": state, "namespace": namespace, "name": name}.items() if v is not None}
        return self._call("tasker_task_list", {**query, "limit": limit})["tasks"]

    def evaluate(self, task_uuid: str) -> Outcome:
        return Outcome.from_json(json.loads(_ffi.call_json("tasker_task_evaluate", self._h, task_uuid.encode())))

    def retry_task(self, task_uuid: str, *, actor: str | None = None, reason: str | None = None) -> Outcome:
        return Outcome.from_json(self._call("tasker_task_retry", {"task_uuid": task_uuid, "actor": actor, "reason": reason}))

    def cancel_task(self, task_uuid: str, *, actor: str | None = None, reason: str | None = None) -> Outcome:
        return Outcome.from_json(self._call("tasker_task_cancel", {"task_uuid": task_uuid, "actor": actor, "reason": reason}))

    def resolve_step(self, task_uuid: str, step: str, result: Any = None, *, actor: str | None = None,
                     reason: str | None = None) -> Outcome:
        """Marks a step (by name or uuid) resolved by hand; its dependents see ``result``."""
        return Outcome.from_json(self._call("tasker_step_resolve", {
            "task_uuid": task_uuid, "step_name": step, "result": result, "actor": actor, "reason": reason}))

    def stale_work(self, limit: int = 100) -> dict[str, Any]:
        """Expired leases and due retries nobody is driving: re-enqueue ``["task_uuids"]``."""
        return self._call("tasker_stale_work_list", {"limit": limit})

    def health(self) -> dict[str, Any]:
        return json.loads(_ffi.engine_health(self._h))

    def migrate(self) -> None:
        _ffi.engine_migrate(self._h)

    def advance_clock(self, seconds: float) -> None:
        """Moves a ``clock="manual"`` engine's clock forward (tests)."""
        _ffi.engine_advance_clock(self._h, round(seconds * 1000))

    def subscribe(self, pattern: str = "*", capacity: int = 0) -> "Subscription":
        """Subscribes to events (``"*"``, ``"step.*"``, ``"task.completed"``, ...). See docs/events.md."""
        return Subscription(self, pattern, capacity)

    # ---- running steps -------------------------------------------------------------------------------

    def handle(self, task_uuid: str) -> Outcome:
        """Runs the task's ready steps (up to ``concurrency`` at once, on threads) until none are ready, and returns
        the outcome: re-enqueue the task after ``delay_seconds`` when ``action == "reenqueue"``."""
        outcome = self.evaluate(task_uuid)
        while outcome.action == "execute":
            claims = self._claim(task_uuid)
            if len(claims) == 1:
                self._report(self._run_sync(claims[0]))
            elif claims:
                list(self._executor().map(lambda c: self._report(self._run_sync(c)), claims))
            outcome = self.evaluate(task_uuid)
        return outcome

    async def handle_async(self, task_uuid: str) -> Outcome:
        """``handle`` for asyncio: async handlers are awaited, sync ones run in threads; the event loop never blocks
        on the engine."""
        outcome = await asyncio.to_thread(self.evaluate, task_uuid)
        while outcome.action == "execute":
            claims = await asyncio.to_thread(self._claim, task_uuid)

            async def run(claim: dict[str, Any]) -> None:
                report = await self._run_async(claim)
                await asyncio.to_thread(self._report, report)

            await asyncio.gather(*(run(c) for c in claims))
            outcome = await asyncio.to_thread(self.evaluate, task_uuid)
        return outcome

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="tasker-step")
            return self._pool

    def _claim(self, task_uuid: str) -> list[dict[str, Any]]:
        request = {"task_uuid": task_uuid, "max_steps": self._concurrency, "worker_id": self._worker_id}
        return self._call("tasker_steps_claim", request)["claims"]

    def _handler_for(self, context: StepContext) -> StepHandler | None:
        registered = self._handlers.get(context.step.handler)
        return registered() if isinstance(registered, type) else registered

    def _run_sync(self, claim: dict[str, Any]) -> tuple[str, bytes]:
        context = StepContext.from_claim(claim)
        try:
            handler = self._handler_for(context)
            if handler is None:
                return _unknown_handler(claim, context)
            output = handler.process(context)
            if inspect.isawaitable(output):
                output = asyncio.run(_await(output))
            output = handler.process_results(output)
            if inspect.isawaitable(output):
                output = asyncio.run(_await(output))
            return _completion(claim, output)
        except BaseException as e:  # noqa: BLE001 - every handler failure becomes a step failure
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            return _failure(claim, e)

    async def _run_async(self, claim: dict[str, Any]) -> tuple[str, bytes]:
        context = StepContext.from_claim(claim)
        try:
            handler = self._handler_for(context)
            if handler is None:
                return _unknown_handler(claim, context)
            if inspect.iscoroutinefunction(handler.process):
                output = await handler.process(context)
            else:
                output = await asyncio.to_thread(handler.process, context)
            output = handler.process_results(output)
            if inspect.isawaitable(output):
                output = await output
            return _completion(claim, output)
        except Exception as e:  # noqa: BLE001
            return _failure(claim, e)

    def _report(self, report: tuple[str, bytes]) -> None:
        name, payload = report
        try:
            _ffi.call_json(name, self._h, payload)
        except TaskerError as e:
            # A stale claim means the step's lease expired and someone else owns it now: nothing to do.
            if e.code != 9:
                raise


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _claim_ref(claim: dict[str, Any]) -> dict[str, Any]:
    return {"task_uuid": claim["task"]["task_uuid"], "step_uuid": claim["step"]["step_uuid"],
            "claim_token": claim["claim_token"]}


def _completion(claim: dict[str, Any], output: Any) -> tuple[str, bytes]:
    try:
        payload = _dumps({**_claim_ref(claim), "result": output})
    except (TypeError, ValueError) as e:
        return _failure(claim, TypeError(f"step result is not JSON-serializable: {e}"))
    return "tasker_step_complete", payload


def _failure(claim: dict[str, Any], error: BaseException) -> tuple[str, bytes]:
    body: dict[str, Any] = {
        "message": str(error) or type(error).__name__,
        "error_type": type(error).__name__,
        "permanent": isinstance(error, PermanentError),
        "backtrace": traceback.format_exception(type(error), error, error.__traceback__)[-50:],
    }
    if isinstance(error, RetryableError) and error.retry_after is not None:
        body["retry_after_seconds"] = error.retry_after
    return "tasker_step_fail", _dumps({**_claim_ref(claim), "error": body})


def _unknown_handler(claim: dict[str, Any], context: StepContext) -> tuple[str, bytes]:
    error = {"message": f"no handler registered for {context.step.handler!r} (step {context.step.name!r})",
             "error_type": "UnknownHandler", "permanent": True}
    return "tasker_step_fail", _dumps({**_claim_ref(claim), "error": error})


class Subscription:
    """Pulled batches of events. Iterating yields the events buffered now; ``dropped`` counts overflow."""

    def __init__(self, engine: Engine, pattern: str, capacity: int):
        self._engine = engine
        self._handle = _ffi.subscription_open(engine._h, pattern.encode("utf-8"), capacity)
        self._finalizer = weakref.finalize(self, _ffi.subscription_free, self._handle)
        self.dropped = 0

    def pull(self, max_events: int = 1000) -> list[dict[str, Any]]:
        if not self._finalizer.alive:
            raise InvalidHandleError("the subscription is closed")
        batch = json.loads(_ffi.subscription_pull(self._handle, max_events))
        self.dropped = batch["dropped"]
        return batch["events"]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while events := self.pull():
            yield from events

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
