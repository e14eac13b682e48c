"""The Engine: templates, tasks, and ``handle``, which runs your step handlers (the loop itself is in _runner)."""
from __future__ import annotations

import os
import threading
import weakref
from typing import TYPE_CHECKING, Any, Sequence, Union

from . import _ffi, _runner
from ._json import dumps, loads
from ._lifetime import check_process, release
from ._quick import HandlerTimes
from .errors import InvalidHandleError, NotFoundError, ValidationError
from .handler import StepHandler
from .outcome import Outcome, Task


class _Deferred:
    """A module imported when one of its names is first read. The type hints below name uuid, concurrent.futures and
    tasker.subscription through these, so that importing tasker loads none of them (test_loading.py says what each
    costs) while ``typing.get_type_hints`` still resolves every hint."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attribute)


if TYPE_CHECKING:
    import concurrent.futures as _futures
    import uuid as _uuid

    from . import subscription as _subscription
else:
    _futures = _Deferred("concurrent.futures")
    _uuid = _Deferred("uuid")
    _subscription = _Deferred("tasker.subscription")

TaskUuid = Union[str, "_uuid.UUID"]  # uuid (and the platform it imports) is not loaded for this
HandlerSpec = Union[type[StepHandler], StepHandler]


class Engine:
    """An embedded Tasker engine. The memory store by default; ``Engine(database_url=...)`` for PostgreSQL.

    ``config`` is the engine configuration of ``tasker_engine_open``: ``schema``, ``pool_size``, ``migrate``,
    ``announce_tasks`` (default True) and ``durable_claims`` (default False; docs/operations.md),
    ``max_attempts``, ``backoff={...}``, ``lease_seconds``, ``retention={...}``, ``event_buffer``,
    ``clock="manual"`` (tests), ``random_seed``, ``telemetry={...}``, ``missing_handler_requeue_seconds`` (how long
    a task whose ready steps only other workers can run waits before it is re-driven; default 5).

    Use it as a context manager (or call ``close``); a finalizer frees an engine that is garbage collected open.
    Thread-safe: ``handle`` may run on several threads at once. An engine belongs to the process that opened it:
    after ``fork`` open a new one in the child.
    """

    def __init__(self, database_url: str | None = None, *, concurrency: int = 8, worker_id: str | None = None,
                 **config: Any):
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ValidationError("concurrency must be an integer of at least 1")
        if database_url is not None:
            config["database_url"] = database_url
        self._pid = os.getpid()
        self._handle = _ffi.engine_open(dumps(config))
        self._finalizer = weakref.finalize(self, release, _ffi.engine_free, self._handle, self._pid)
        self._handlers: dict[str, HandlerSpec] = {}
        self._concurrency = concurrency
        self._worker_id = worker_id or f"python-{self._pid}"
        # Memory-store calls take microseconds and never wait on I/O: handle_async makes them on the event loop.
        # PostgreSQL calls wait on the database: handle_async makes them on threads.
        self._blocking = "database_url" in config
        # A manual clock moves only when a test says so: deadlines are then not timed against the real clock.
        self._manual_clock = config.get("clock") == "manual"
        self._pool: _futures.ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._handler_times = HandlerTimes()  # which handlers handle() runs on the calling thread (_quick.py)

    # ---- lifetime -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Shuts the engine down (idempotent): waits for steps running on its threads, closes the store and flushes
        telemetry, raising what failed on the way out (the engine is released even then). Calls made with it
        afterwards raise ``InvalidHandleError``."""
        if self._finalizer.detach():
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            if os.getpid() == self._pid:
                _ffi.engine_close(self._handle)

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        store = "postgres" if self._blocking else "memory"
        return f"<tasker.Engine {store}{' closed' if self.closed else ''}>"

    @property
    def _h(self) -> int:
        if self.closed:
            raise InvalidHandleError("the engine is closed")
        check_process(self._pid, "engine")
        return self._handle

    def _call(self, name: str, payload: bytes) -> dict[str, Any]:
        answer: dict[str, Any] = loads(_ffi.call_json(name, self._h, payload))
        return answer

    def _outcome(self, name: str, payload: bytes) -> Outcome:
        return Outcome.from_json(self._call(name, payload))

    # ---- templates and handlers ----------------------------------------------------------------------

    def register_template(self, source: str | os.PathLike[str]) -> dict[str, Any]:
        """Registers a template from a file (a path) or from YAML/JSON text. Returns its namespace, name, version
        and step names. A string on one line that is not a JSON/YAML mapping is taken as a path."""
        if isinstance(source, os.PathLike) or _looks_like_path(source):
            from pathlib import Path  # a file's template: not on the path of opening an engine (about 0.5 MB)

            path = Path(source)
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise FileNotFoundError(
                    f"no template file {str(path)!r} (register_template takes a path or the template's text)") from None
        else:
            text = source
        return self._call("tasker_template_register", text.encode("utf-8"))

    def register_templates(self, directory: str | os.PathLike[str]) -> list[dict[str, Any]]:
        """Registers every ``*.yml`` and ``*.yaml`` file of ``directory``, in name order."""
        from pathlib import Path

        paths = sorted(p for p in Path(directory).glob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
        if not paths:
            raise NotFoundError(f"no *.yml or *.yaml templates in {str(directory)!r}")
        return [self.register_template(p) for p in paths]

    def register_handler(self, name: str, handler: HandlerSpec) -> None:
        """Registers the handler for steps whose template says ``handler: {callable: name}``: a StepHandler subclass
        (one instance per step attempt) or an instance (shared by every attempt, from several threads at once).
        ``handle`` claims only the steps of registered handlers; the others stay ready for a worker that has theirs
        (``outcome.waiting_for_handlers`` names them)."""
        if not isinstance(name, str) or not name or "\0" in name:
            raise ValidationError(f"a handler name is a non-empty string without NUL, not {name!r}")
        if not (isinstance(handler, StepHandler) or (isinstance(handler, type) and issubclass(handler, StepHandler))):
            raise ValidationError(f"handler for {name!r} must be a tasker.StepHandler subclass or instance, "
                                  f"not {handler!r}")
        self._handlers[name] = handler
        self._handler_times.forget(name)

    def register_handlers(self, *handlers: type[StepHandler]) -> None:
        """Registers each StepHandler subclass under its class name (``handler: {callable: ValidateOrder}``)."""
        for handler in handlers:
            if not isinstance(handler, type):
                raise ValidationError(f"{handler!r} is not a class: use register_handler(name, handler)")
            self.register_handler(handler.__name__, handler)

    @property
    def handlers(self) -> dict[str, HandlerSpec]:
        """The registered handlers by name (a copy)."""
        return dict(self._handlers)

    # ---- tasks -------------------------------------------------------------------------------------

    def create_task(self, name: str, *, namespace: str, version: str | None = None,
                    context: dict[str, Any] | None = None, initiator: str | None = None,
                    source_system: str | None = None, reason: str | None = None, tags: Sequence[str] | None = None,
                    priority: int | None = None, idempotency_key: str | None = None,
                    correlation_id: str | None = None, traceparent: str | None = None,
                    bypass_steps: Sequence[str] | None = None, requested_at: Any = None) -> Task:
        """Creates a task from a registered template (the newest version unless ``version`` is given).
        ``task.created`` is False when an ``idempotency_key`` matched an existing task, which is returned.
        ``traceparent`` (W3C) puts the task's spans, whoever runs its steps, into the caller's trace.
        ``bypass_steps`` names skippable steps not to run; ``requested_at`` (a datetime with a timezone, or an ISO 8601
        string) is when the host asked for the task, as in Rails Tasker's TaskRequest."""
        request: dict[str, Any] = {"name": name, "namespace": namespace, "context": {} if context is None else context}
        optional = {"version": version, "initiator": initiator, "source_system": source_system, "reason": reason,
                    "tags": None if tags is None else list(tags), "priority": priority,
                    "idempotency_key": idempotency_key, "correlation_id": correlation_id, "traceparent": traceparent,
                    "bypass_steps": None if bypass_steps is None else list(bypass_steps),
                    "requested_at": requested_at.isoformat() if hasattr(requested_at, "isoformat") else requested_at}
        request.update((key, value) for key, value in optional.items() if value is not None)
        return Task.from_create_answer(_ffi.call_json("tasker_task_create", self._h, dumps(request)))

    def get_task(self, task_uuid: TaskUuid) -> Task:
        """The task with its steps (state, attempts, result, error, readiness) and its audit trail."""
        return Task.from_json(self._call("tasker_task_get", _text(task_uuid)))

    def list_tasks(self, *, state: str | None = None, namespace: str | None = None, name: str | None = None,
                   limit: int = 100) -> list[dict[str, Any]]:
        """Tasks, newest first: dicts with task_uuid, namespace, name, version, state, created_at, updated_at."""
        query = {"state": state, "namespace": namespace, "name": name, "limit": limit}
        tasks: list[dict[str, Any]] = self._call("tasker_task_list", dumps(
            {k: v for k, v in query.items() if v is not None}))["tasks"]
        return tasks

    def evaluate(self, task_uuid: TaskUuid) -> Outcome:
        """What the host should do with the task now (finalizes it when nothing can progress)."""
        return self._outcome("tasker_task_evaluate", _text(task_uuid))

    def retry_task(self, task_uuid: TaskUuid, *, actor: str | None = None, reason: str | None = None) -> Outcome:
        """Retries a task in error: failed steps start over, completed steps keep their results."""
        return self._outcome("tasker_task_retry", _request(task_uuid=str(task_uuid), actor=actor, reason=reason))

    def cancel_task(self, task_uuid: TaskUuid, *, actor: str | None = None, reason: str | None = None) -> Outcome:
        """Cancels a task and its unfinished steps (claims in flight become stale)."""
        return self._outcome("tasker_task_cancel", _request(task_uuid=str(task_uuid), actor=actor, reason=reason))

    def resolve_step(self, task_uuid: TaskUuid, step: str, result: Any = None, *, actor: str | None = None,
                     reason: str | None = None) -> Outcome:
        """Marks a step (by name or uuid) resolved by hand; its dependents see ``result``."""
        return self._outcome("tasker_step_resolve", dumps({
            "task_uuid": str(task_uuid), "step_name": str(step), "result": result, "actor": actor, "reason": reason}))

    def stale_work(self, limit: int = 100) -> dict[str, Any]:
        """Expired leases and due retries nobody is driving: re-enqueue ``["task_uuids"]``."""
        return self._call("tasker_stale_work_list", dumps({"limit": limit}))

    def health(self) -> dict[str, Any]:
        """``healthy``, the store, task and step counts by state, expired leases, due retries, and ``memory``: the
        library's managed heap (``heap_size_bytes``, ``committed_bytes``, ``gc_counts``, ...; docs/observability.md)."""
        health: dict[str, Any] = loads(_ffi.engine_health(self._h))
        return health

    def migrate(self) -> None:
        """Applies pending PostgreSQL migrations (engines open with ``migrate=True`` by default); a no-op on memory."""
        _ffi.engine_migrate(self._h)

    def advance_clock(self, seconds: float) -> None:
        """Moves a ``clock="manual"`` engine's clock forward (tests follow retry delays without sleeping)."""
        _ffi.engine_advance_clock(self._h, round(seconds * 1000))

    def subscribe(self, pattern: str = "*", capacity: int = 0) -> _subscription.Subscription:
        """Subscribes to events (``"*"``, ``"step.*"``, ``"task.completed"``, ...; see docs/events.md). Events
        published from now on are buffered (``capacity``, default the engine's ``event_buffer``) until pulled."""
        from .subscription import Subscription  # loaded with the first subscription: not on the open/handle path

        return Subscription(self, pattern, capacity)

    # ---- running steps -------------------------------------------------------------------------------

    def handle(self, task_uuid: TaskUuid, *, traceparent: str | None = None) -> Outcome:
        """Runs the task's ready steps that have a registered handler, up to ``concurrency`` at once (on threads),
        until none is left, and returns the last outcome. Come back when ``outcome.requeue_after_seconds`` is not
        None, after that many seconds (``reenqueue``: a retry's delay, or ready steps only another worker has the
        handler for, listed in ``outcome.waiting_for_handlers``); ``wait`` means steps are in flight elsewhere.
        A handler's failure, a result the engine refuses and a step that runs past its deadline are recorded as the
        step's failure: nothing raises for the handler's sake. ``traceparent`` (W3C, e.g. from the queue job's
        headers) makes this call's step spans children of the caller's span."""
        return _runner.handle(self, str(task_uuid), traceparent)

    async def handle_async(self, task_uuid: TaskUuid, *, traceparent: str | None = None) -> Outcome:
        """``handle`` for asyncio: the same loop. ``async def`` handlers are awaited concurrently on the running loop
        and cancelled at their deadline; sync handlers and PostgreSQL calls run on threads. The event loop never
        blocks on a handler or the database."""
        return await _runner.handle_async(self, str(task_uuid), traceparent)

    def _executor(self) -> _futures.ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                # Imported here: a process whose steps all run inline (one at a time, or quick) never needs it.
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="tasker-step")
            return self._pool


def _looks_like_path(source: str) -> bool:
    """A template's text is a mapping: YAML on several lines, or one line of JSON/YAML flow ``{...}``."""
    if not isinstance(source, str):
        raise TypeError(f"register_template takes a path or text, not {type(source).__name__}")
    return "\n" not in source and not source.lstrip().startswith("{")


def _text(task_uuid: TaskUuid) -> bytes:
    return str(task_uuid).encode("utf-8")


def _request(**fields: Any) -> bytes:
    return dumps({k: v for k, v in fields.items() if v is not None})


def __getattr__(name: str) -> Any:
    if name == "Subscription":  # as before: tasker.engine.Subscription is tasker.Subscription
        from .subscription import Subscription

        return Subscription
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Engine", "Subscription"]
