"""The Engine: templates, tasks, and the handle loop that runs your step handlers."""
from __future__ import annotations

import asyncio
import inspect
import os
import threading
import traceback
import uuid as _uuid
import weakref
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar, Union

from . import _ffi
from ._json import dumps, loads, why_refused
from .errors import (InvalidHandleError, NotFoundError, PermanentError, RetryableError, StaleClaimError, TaskerError,
                     ValidationError)
from .handler import StepContext, StepHandler
from .outcome import Outcome, Task

_T = TypeVar("_T")
TaskUuid = Union[str, _uuid.UUID]
HandlerSpec = Union[type[StepHandler], StepHandler]
_Report = tuple[str, bytes]  # (the native function, its request)

_MAX_MESSAGE = 16_384  # characters of an exception's message recorded with a failed step
_MAX_FRAMES = 50  # traceback entries recorded with a failed step


def _release(free: Callable[[int], None], handle: int, pid: int) -> None:
    """Frees a native handle from a finalizer (garbage collection or interpreter exit). Never in a forked child: the
    library's runtime does not survive fork, and the handle belongs to the parent anyway."""
    if os.getpid() != pid:
        return
    try:
        free(handle)
    except TaskerError:
        pass


def _check_process(pid: int, what: str) -> None:
    if os.getpid() != pid:
        raise TaskerError(
            f"this {what} was opened in process {pid} and cannot be used after fork; "
            "open a new Engine in each worker process (e.g. in Celery's worker_process_init)")


class Engine:
    """An embedded Tasker engine. The memory store by default; ``Engine(database_url=...)`` for PostgreSQL.

    ``config`` is the engine configuration of ``tasker_engine_open``: ``schema``, ``pool_size``, ``migrate``,
    ``max_attempts``, ``backoff={...}``, ``lease_seconds``, ``retention={...}``, ``event_buffer``,
    ``clock="manual"`` (tests), ``random_seed``, ``telemetry={...}``.

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
        self._finalizer = weakref.finalize(self, _release, _ffi.engine_free, self._handle, self._pid)
        self._handlers: dict[str, HandlerSpec] = {}
        self._concurrency = concurrency
        self._worker_id = worker_id or f"python-{self._pid}"
        # Memory-store calls take microseconds and never wait on I/O: handle_async makes them on the event loop.
        # PostgreSQL calls wait on the database: handle_async makes them on threads.
        self._blocking = database_url is not None or "database_url" in config
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    # ---- lifetime -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Releases the engine (idempotent). Calls made with it afterwards raise ``InvalidHandleError``."""
        if self._finalizer.detach():
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            if os.getpid() == self._pid:
                _ffi.engine_free(self._handle)

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        store = "postgresql" if self._blocking else "memory"
        return f"<tasker.Engine {store}{' closed' if self.closed else ''}>"

    @property
    def _h(self) -> int:
        if self.closed:
            raise InvalidHandleError("the engine is closed")
        _check_process(self._pid, "engine")
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
        paths = sorted(p for p in Path(directory).glob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
        if not paths:
            raise NotFoundError(f"no *.yml or *.yaml templates in {str(directory)!r}")
        return [self.register_template(p) for p in paths]

    def register_handler(self, name: str, handler: HandlerSpec) -> None:
        """Registers the handler for steps whose template says ``handler: {callable: name}``: a StepHandler subclass
        (one instance per step attempt) or an instance (shared by every attempt, from several threads at once).
        Only registered names ever run."""
        if not (isinstance(handler, StepHandler) or (isinstance(handler, type) and issubclass(handler, StepHandler))):
            raise ValidationError(f"handler for {name!r} must be a tasker.StepHandler subclass or instance, "
                                  f"not {handler!r}")
        self._handlers[name] = handler

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
        answer = self._call("tasker_task_create", dumps(request))
        return Task.from_json(answer["task"], created=answer["created"])

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
        """``healthy``, the store, task and step counts by state, expired leases, due retries."""
        health: dict[str, Any] = loads(_ffi.engine_health(self._h))
        return health

    def migrate(self) -> None:
        """Applies pending PostgreSQL migrations (engines open with ``migrate=True`` by default); a no-op on memory."""
        _ffi.engine_migrate(self._h)

    def advance_clock(self, seconds: float) -> None:
        """Moves a ``clock="manual"`` engine's clock forward (tests follow retry delays without sleeping)."""
        _ffi.engine_advance_clock(self._h, round(seconds * 1000))

    def subscribe(self, pattern: str = "*", capacity: int = 0) -> Subscription:
        """Subscribes to events (``"*"``, ``"step.*"``, ``"task.completed"``, ...; see docs/events.md). Events
        published from now on are buffered (``capacity``, default the engine's ``event_buffer``) until pulled."""
        return Subscription(self, pattern, capacity)

    # ---- running steps -------------------------------------------------------------------------------

    def handle(self, task_uuid: TaskUuid, *, traceparent: str | None = None) -> Outcome:
        """Runs the task's ready steps until none are ready and returns the outcome. Each wave of ready steps runs
        concurrently (up to ``concurrency`` steps, on threads). When ``outcome.action == "reenqueue"``, come back
        after ``outcome.delay_seconds``; ``"wait"`` means steps are in flight elsewhere. ``traceparent`` (W3C, e.g.
        from the queue job's headers) makes this call's step spans children of the caller's span."""
        task_uuid = str(task_uuid)
        claims, outcome = self._claim(task_uuid, traceparent)
        while True:
            if not claims:
                if outcome.action != "execute":
                    return outcome
                claims, outcome = self._claim(task_uuid, traceparent)  # raced with another worker: ask once more
                if not claims:
                    return outcome
            done = _after_wave(self._run_wave(claims))
            if done is not None:
                return done
            claims, outcome = self._claim(task_uuid, traceparent)

    async def handle_async(self, task_uuid: TaskUuid, *, traceparent: str | None = None) -> Outcome:
        """``handle`` for asyncio. Async handlers are awaited concurrently on the running loop; sync handlers run in
        threads; PostgreSQL calls run in threads. The event loop never blocks on a handler or the database."""
        task_uuid = str(task_uuid)
        claims, outcome = await self._native(self._claim, task_uuid, traceparent)
        while True:
            if not claims:
                if outcome.action != "execute":
                    return outcome
                claims, outcome = await self._native(self._claim, task_uuid, traceparent)
                if not claims:
                    return outcome

            async def step(claim: dict[str, Any]) -> Outcome | None:
                report = await self._run_async(claim)
                return await self._native(self._report, claim, report)

            done = _after_wave(list(await asyncio.gather(*(step(c) for c in claims))))
            if done is not None:
                return done
            claims, outcome = await self._native(self._claim, task_uuid, traceparent)

    def _run_wave(self, claims: list[dict[str, Any]]) -> list[Outcome | None]:
        """Runs a wave's steps at once, each on a pool thread that reports it as soon as it is done (one step runs on
        this thread: no hand-off)."""
        if len(claims) == 1:
            return [self._report(claims[0], self._run_sync(claims[0]))]
        return list(self._executor().map(lambda claim: self._report(claim, self._run_sync(claim)), claims))

    async def _native(self, fn: Callable[..., _T], *args: Any) -> _T:
        if self._blocking:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="tasker-step")
            return self._pool

    def _claim(self, task_uuid: str, traceparent: str | None) -> tuple[list[dict[str, Any]], Outcome]:
        request = {"task_uuid": task_uuid, "max_steps": self._concurrency, "worker_id": self._worker_id}
        if traceparent:
            request["traceparent"] = traceparent
        answer = self._call("tasker_steps_claim", dumps(request))
        claims: list[dict[str, Any]] = answer["claims"]
        if traceparent:
            for claim in claims:  # carried to the step's report (_claim_ref), never sent to the handler
                claim["_traceparent"] = traceparent
        return claims, Outcome.from_json(answer["outcome"])

    def _handler_for(self, context: StepContext) -> StepHandler | None:
        registered = self._handlers.get(context.step.handler)
        return registered() if isinstance(registered, type) else registered

    def _run_sync(self, claim: dict[str, Any]) -> _Report:
        """Runs one claimed step on this thread; returns the report to make. Never raises for the handler's sake."""
        context = StepContext.from_claim(claim)
        started = _now()
        try:
            handler = self._handler_for(context)
            if handler is None:
                return self._unknown_handler(claim, context)
            try:
                output = _resolve(handler.process(context))
                output = _resolve(handler.process_results(output))
            finally:
                _record_run(claim, context, started)
            return _completion(claim, output)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:  # noqa: BLE001 - every other handler failure becomes a step failure
            return _failure(claim, e)

    async def _run_async(self, claim: dict[str, Any]) -> _Report:
        context = StepContext.from_claim(claim)
        started = _now()
        try:
            handler = self._handler_for(context)
            if handler is None:
                return self._unknown_handler(claim, context)
            try:
                output = await self._produce_async(handler, context)
            finally:
                _record_run(claim, context, started)
            return _completion(claim, output)
        except (KeyboardInterrupt, SystemExit, asyncio.CancelledError):
            raise
        except BaseException as e:  # noqa: BLE001
            return _failure(claim, e)

    @staticmethod
    async def _produce_async(handler: StepHandler, context: StepContext) -> Any:
        if not (inspect.iscoroutinefunction(handler.process) or inspect.iscoroutinefunction(handler.process_results)):
            return await asyncio.to_thread(_produce_sync, handler, context)  # both sync: one hop for the pair
        if inspect.iscoroutinefunction(handler.process):
            output = await handler.process(context)
        else:
            output = await asyncio.to_thread(handler.process, context)
        if inspect.isawaitable(output):
            output = await output
        output = handler.process_results(output)
        if inspect.isawaitable(output):
            output = await output
        return output

    def _report(self, claim: dict[str, Any], report: _Report) -> Outcome | None:
        """Reports a step; returns the outcome, or None when the claim was stale (the lease expired and the step is
        someone else's now, or the task was cancelled meanwhile: nothing to do)."""
        name, payload = report
        try:
            return self._outcome(name, payload)
        except StaleClaimError:
            return None
        except ValidationError as e:
            # The engine refused what the handler produced (a result nesting deeper than 64 levels, larger than
            # 64 MiB, ...). Record that as the step's failure instead of leaving the step in progress until its
            # lease expires.
            if name == "tasker_step_complete":
                reason = why_refused(payload, "result") or e.message
                name, payload = _failure(claim, TypeError(f"the engine refused the step's result: {reason}"))
            else:
                name, payload = "tasker_step_fail", dumps({**_claim_ref(claim), "error": {
                    "message": f"the engine refused the step's failure report: {e.message}",
                    "error_type": "InvalidFailureReport", "permanent": False}})
            try:
                return self._outcome(name, payload)
            except StaleClaimError:
                return None

    def _unknown_handler(self, claim: dict[str, Any], context: StepContext) -> _Report:
        known = ", ".join(sorted(self._handlers)[:20]) or "none"
        error = {"message": f"no handler registered for {context.step.handler!r} (step {context.step.name!r}); "
                            f"registered: {known}",
                 "error_type": "UnknownHandler", "permanent": True}
        return "tasker_step_fail", dumps({**_claim_ref(claim), "error": error})


def _looks_like_path(source: str) -> bool:
    """A template's text is a mapping: YAML on several lines, or one line of JSON/YAML flow ``{...}``."""
    if not isinstance(source, str):
        raise TypeError(f"register_template takes a path or text, not {type(source).__name__}")
    return "\n" not in source and not source.lstrip().startswith("{")


def _text(task_uuid: TaskUuid) -> bytes:
    return str(task_uuid).encode("utf-8")


def _request(**fields: Any) -> bytes:
    return dumps({k: v for k, v in fields.items() if v is not None})


def _after_wave(outcomes: list[Outcome | None]) -> Outcome | None:
    """The outcome ``handle`` returns after a wave, or None to claim again. A finished outcome is final (the one that
    finalized the task is preferred: its ``finalized`` is True). After a wave of one step its report's outcome is
    current; after several, the next claim's outcome is (reports of one wave finish in any order)."""
    finished = [o for o in outcomes if o is not None and o.finished]
    if finished:
        return next((o for o in finished if o.finalized), finished[-1])
    if len(outcomes) == 1 and outcomes[0] is not None and outcomes[0].action != "execute":
        return outcomes[0]
    return None


def _produce_sync(handler: StepHandler, context: StepContext) -> Any:
    return _resolve(handler.process_results(_resolve(handler.process(context))))


def _resolve(value: Any) -> Any:
    """Runs an awaitable a sync handler path got (an ``async def`` handler under ``handle``) to its value."""
    if not inspect.isawaitable(value):
        return value
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop on this thread: run one
        return asyncio.run(_await(value))
    # handle() was called on a thread that runs an event loop (handle_async is the better call there): the
    # coroutine gets a loop of its own on another thread.
    with ThreadPoolExecutor(1, thread_name_prefix="tasker-async-step") as runner:
        return runner.submit(asyncio.run, _await(value)).result()


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _claim_ref(claim: dict[str, Any]) -> dict[str, Any]:
    """The fields every report of this claim carries: which step, the claim token, and (when ``handle`` was given
    one) the caller's traceparent and what the handler run looked like (for its trace span)."""
    ref = {"task_uuid": claim["task"]["task_uuid"], "step_uuid": claim["step"]["step_uuid"],
           "claim_token": claim["claim_token"]}
    if "_traceparent" in claim:
        ref["traceparent"] = claim["_traceparent"]
    if "_handler_run" in claim:
        ref["handler"] = claim["_handler_run"]
    return ref


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _record_run(claim: dict[str, Any], context: StepContext, started: str) -> None:
    """Remembers when the handler ran and the attributes it set; the report sends them (a ``tasker.handler`` span)."""
    claim["_handler_run"] = {"started_at": started, "finished_at": _now(), "attributes": context.attributes}


def _completion(claim: dict[str, Any], output: Any) -> _Report:
    ref = _claim_ref(claim)
    try:
        payload = dumps({**ref, "result": output})
    except TypeError as e:
        return _failure(claim, e)
    return "tasker_step_complete", payload


def _describe(error: BaseException) -> str:
    try:
        message = str(error)
    except Exception:  # noqa: BLE001 - a broken __str__ must not lose the failure
        message = ""
    message = message or type(error).__name__
    return message if len(message) <= _MAX_MESSAGE else message[:_MAX_MESSAGE] + "..."


def _failure(claim: dict[str, Any], error: BaseException) -> _Report:
    try:
        backtrace = traceback.format_exception(type(error), error, error.__traceback__)[-_MAX_FRAMES:]
    except Exception:  # noqa: BLE001
        backtrace = []
    body: dict[str, Any] = {
        "message": _describe(error),
        "error_type": type(error).__name__,
        "permanent": isinstance(error, PermanentError),
        "backtrace": [line[:_MAX_MESSAGE] for line in backtrace],
    }
    if isinstance(error, RetryableError) and error.retry_after is not None:
        body["retry_after_seconds"] = error.retry_after
    try:
        payload = dumps({**_claim_ref(claim), "error": body})
    except TypeError:  # text with lone surrogates in a message or traceback
        body = {k: (v.encode("utf-8", "replace").decode() if isinstance(v, str) else v) for k, v in body.items()}
        body["backtrace"] = [line.encode("utf-8", "replace").decode() for line in body["backtrace"]]
        payload = dumps({**_claim_ref(claim), "error": body})
    return "tasker_step_fail", payload


class Subscription:
    """An event subscription: ``pull()`` returns the buffered events (dicts, see docs/events.md), oldest first;
    iterating yields every event buffered now and stops when the buffer is empty. ``dropped`` counts events lost
    to a full buffer. A context manager; a finalizer closes a subscription that is garbage collected open."""

    def __init__(self, engine: Engine, pattern: str, capacity: int):
        self._engine = engine  # the engine lives at least as long as its subscriptions
        self._pid = os.getpid()
        self._handle = _ffi.subscription_open(engine._h, pattern.encode("utf-8"), capacity)
        self._finalizer = weakref.finalize(self, _release, _ffi.subscription_free, self._handle, self._pid)
        self.pattern = pattern
        self.dropped = 0

    def pull(self, max_events: int = 1000) -> list[dict[str, Any]]:
        if not self._finalizer.alive:
            raise InvalidHandleError("the subscription is closed")
        _check_process(self._pid, "subscription")
        batch = loads(_ffi.subscription_pull(self._handle, max_events))
        self.dropped = batch["dropped"]
        events: list[dict[str, Any]] = batch["events"]
        return events

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while events := self.pull():
            yield from events

    def close(self) -> None:
        """Ends the subscription (idempotent)."""
        if self._finalizer.detach() and os.getpid() == self._pid:
            _ffi.subscription_free(self._handle)

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Engine", "Subscription"]
