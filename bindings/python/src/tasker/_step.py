"""One claimed step: run its handler (sync or ``async def``, within the attempt's deadline) and build the report the
engine gets for it. Nothing here raises for the handler's sake: whatever the handler does becomes a report."""
from __future__ import annotations

import inspect
import time
from typing import Any

from ._json import dumps
from .errors import PermanentError, RetryableError
from .handler import StepContext, StepHandler

COMPLETE = "tasker_step_complete"
FAIL = "tasker_step_fail"

#: (the native function, the request's fields). The loop adds ``claim_next`` and encodes it.
Report = tuple[str, dict[str, Any]]


def claim_ref(claim: dict[str, Any], traceparent: str | None) -> dict[str, Any]:
    """The fields every request about this claim carries: which step, the claim token, the caller's traceparent."""
    ref = {"task_uuid": claim["task"]["task_uuid"], "step_uuid": claim["step"]["step_uuid"],
           "claim_token": claim["claim_token"]}
    if traceparent:
        ref["traceparent"] = traceparent
    return ref


def run_sync(handler: StepHandler | type[StepHandler], context: StepContext, ref: dict[str, Any]) -> Report:
    """Runs the handler on this thread. An ``async def`` handler gets an event loop and is cancelled at the deadline."""
    started = _Started()
    try:
        instance = handler() if isinstance(handler, type) else handler
        try:
            output = _resolve(instance.process(context), context)
            output = _resolve(instance.process_results(output), context)
        finally:
            ref["handler"] = _handler_run(context, started)
        return COMPLETE, {**ref, "result": output}
    except (KeyboardInterrupt, SystemExit):
        raise
    except _DeadlinePassed:
        return timed_out(ref)
    except BaseException as e:  # noqa: BLE001 - every other handler failure becomes a step failure
        return failure(ref, e)


async def run_async(handler: StepHandler | type[StepHandler], context: StepContext, ref: dict[str, Any]) -> Report:
    """Awaits the handler on the running loop (a sync one runs on a thread), cancelled at the deadline."""
    import asyncio

    started = _Started()
    try:
        instance = handler() if isinstance(handler, type) else handler
        try:
            output = await _within_deadline(_produce_async(instance, context), context)
        finally:
            ref["handler"] = _handler_run(context, started)
        return COMPLETE, {**ref, "result": output}
    except (KeyboardInterrupt, SystemExit, asyncio.CancelledError):
        raise
    except _DeadlinePassed:
        return timed_out(ref)
    except BaseException as e:  # noqa: BLE001
        return failure(ref, e)


def failure(ref: dict[str, Any], error: BaseException) -> Report:
    """A handler's exception as the step's failure: the whole message and backtrace (the engine cuts them), the class
    as error_type, ``permanent`` for PermanentError and ``retry_after_seconds`` from RetryableError."""
    import traceback  # imported when a step first fails: not on the path of steps that succeed

    try:
        backtrace = traceback.format_exception(type(error), error, error.__traceback__)
    except Exception:  # noqa: BLE001 - a broken exception must not lose the failure
        backtrace = []
    body: dict[str, Any] = {"message": _describe(error), "error_type": type(error).__name__,
                            "permanent": isinstance(error, PermanentError), "backtrace": backtrace}
    if isinstance(error, RetryableError) and error.retry_after is not None:
        body["retry_after_seconds"] = error.retry_after
    return FAIL, {**ref, "error": body}


def timed_out(ref: dict[str, Any]) -> Report:
    return FAIL, {**ref, "error": {
        "message": "the handler ran past the step's deadline (timeout_seconds) and was cancelled",
        "error_type": "Timeout"}}


def refused(report: Report, message: str) -> Report:
    """What to report when the engine refused a report's content: a refused result becomes the step's
    ``InvalidResult`` failure (never an exception out of ``handle``, never a step left claimed)."""
    name, body = report
    # Without the handler run too: if that was what the engine refused, the failure would be refused again.
    ref = {k: v for k, v in body.items() if k not in ("result", "error", "claim_next", "handler")}
    if name == COMPLETE:
        return FAIL, {**ref, "error": {"message": f"the engine refused the step's result: {message}",
                                       "error_type": "InvalidResult"}}
    return FAIL, {**ref, "error": {"message": f"the engine refused the step's failure report: {message}",
                                   "error_type": "InvalidFailureReport"}}


def encode(report: Report) -> tuple[Report, bytes]:
    """The request's bytes. A result that is not JSON becomes a failure naming where (``TypeError``); text that is
    not UTF-8 in a failure (lone surrogates) is replaced."""
    name, body = report
    try:
        return report, (name == COMPLETE and _completion(body)) or dumps(body)
    except TypeError as e:
        if name == COMPLETE:
            return encode(failure({k: v for k, v in body.items() if k != "result"}, e))
        error = {k: _utf8(v) for k, v in body["error"].items()}
        error["backtrace"] = [_utf8(line) for line in error.get("backtrace", [])]
        report = FAIL, {**body, "error": error}
        return report, dumps(report[1])


_COMPLETION = frozenset(("task_uuid", "step_uuid", "claim_token", "handler", "result"))
_COMPLETION_OPTIONAL = frozenset(("traceparent", "claim_next"))


def _completion(body: dict[str, Any]) -> bytes | None:
    """A completion written directly: ``json`` takes 4-5 µs for it (the floats, the nested handler run), as long as
    the engine takes for the whole step. The uuids and token are the engine's own (ASCII, nothing to escape); the
    result, attributes, traceparent and claim_next go through ``dumps``. None for any other shape, and when the
    result is not JSON (``dumps`` of the whole body then says where)."""
    extra = body.keys() - _COMPLETION
    if not extra <= _COMPLETION_OPTIONAL or not _COMPLETION <= body.keys():
        return None
    run, result = body["handler"], body["result"]
    if type(run["started_at"]) is not float or type(run["finished_at"]) is not float:  # noqa: E721 - repr is JSON
        return None
    try:
        parts = [f'{{"task_uuid":"{body["task_uuid"]}","step_uuid":"{body["step_uuid"]}",'
                 f'"claim_token":"{body["claim_token"]}","handler":{{"started_at":{run["started_at"]!r},'
                 f'"finished_at":{run["finished_at"]!r},"attributes":'.encode(),
                 dumps(run["attributes"]) if run["attributes"] else b"{}",
                 b'},"result":', b"null" if result is None else dumps(result)]
        for key in extra:
            parts += (b',"', key.encode(), b'":', dumps(body[key]))
    except TypeError:
        return None
    parts.append(b"}")
    return b"".join(parts)


def _utf8(value: Any) -> Any:
    return value.encode("utf-8", "replace").decode() if isinstance(value, str) else value


class _DeadlinePassed(Exception):
    """An ``async def`` handler run by ``handle`` was cancelled at its deadline."""


async def _produce_async(handler: StepHandler, context: StepContext) -> Any:
    import asyncio

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


def _produce_sync(handler: StepHandler, context: StepContext) -> Any:
    return _resolve(handler.process_results(_resolve(handler.process(context), context)), context)


_PLAIN = frozenset((dict, list, str, int, float, bool))  # what most handlers return: never awaitable, no inspect call


def _resolve(value: Any, context: StepContext) -> Any:
    """Runs an awaitable a sync path got (an ``async def`` handler under ``handle``) to its value, cancelling it at
    the deadline."""
    if value is None or type(value) in _PLAIN or not inspect.isawaitable(value):
        return value
    import asyncio  # imported when first needed: asyncio (and the ssl it loads) costs a process ~8 MB
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop on this thread: run one
        return asyncio.run(_await(value, context))
    # handle() was called on a thread that runs an event loop (handle_async is the better call there): the
    # coroutine gets a loop of its own on another thread.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="tasker-async-step") as runner:
        return runner.submit(asyncio.run, _await(value, context)).result()


def _remaining(context: StepContext) -> float | None:
    """Seconds until the attempt's deadline (None: no deadline, or an engine whose clock only tests move)."""
    return None if context._cancel_at is None else context._cancel_at - time.monotonic()


async def _await(awaitable: Any, context: StepContext) -> Any:
    return await _within_deadline(awaitable, context)


async def _within_deadline(awaitable: Any, context: StepContext) -> Any:
    """Awaits the handler; at the deadline cancels it and raises _DeadlinePassed (a TimeoutError the handler raises
    itself stays its own failure). asyncio.wait rather than asyncio.timeout: one wait covers the task and the
    deadline."""
    import asyncio

    remaining = _remaining(context)
    if remaining is None:
        return await awaitable
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=max(remaining, 0))
    except BaseException:  # handle_async itself was cancelled: so is the handler
        task.cancel()
        raise
    if done:
        return task.result()
    task.cancel()
    await asyncio.wait({task})  # let the handler unwind (its finally blocks run) before the step is reported
    raise _DeadlinePassed()


def _describe(error: BaseException) -> str:
    try:
        message = str(error)
    except Exception:  # noqa: BLE001 - a broken __str__ must not lose the failure
        message = ""
    return message or type(error).__name__


class _Started:
    """When a handler started: the wall clock for the span's place in time, the monotonic clock for its length (a
    wall clock stepped back by NTP meanwhile would make it end before it began, which the engine refuses)."""

    __slots__ = ("wall", "monotonic")

    def __init__(self) -> None:
        self.wall = time.time()
        self.monotonic = time.perf_counter()


def _handler_run(context: StepContext, started: _Started) -> dict[str, Any]:
    """When the handler ran (Unix seconds: formatting two timestamps cost more than a no-op step's handler) and the
    attributes it set: the engine records a ``tasker.handler`` span from it."""
    finished = started.wall + (time.perf_counter() - started.monotonic)
    return {"started_at": started.wall, "finished_at": finished, "attributes": context.attributes}
