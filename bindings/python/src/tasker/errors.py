"""Exceptions: core errors (raised by the engine) and handler signals (raised by your step handlers)."""
from __future__ import annotations

import json
import math
from typing import Any


class TaskerError(Exception):
    """An error reported by the Tasker core. ``code`` is the C ABI error code; ``details`` a dict of strings."""

    code = 12

    def __init__(self, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationError(TaskerError):
    """INVALID_ARGUMENT: bad input: a missing or ill-typed field, a context that fails the input schema, malformed
    YAML."""
    code = 1


class InvalidHandleError(TaskerError):
    """The engine or subscription was already closed."""
    code = 2


class InvalidUtf8Error(ValidationError):
    code = 3


class InvalidJsonError(ValidationError):
    code = 4


class NotFoundError(TaskerError):
    """Unknown template, task or step."""
    code = 5


class ConflictError(TaskerError):
    code = 6


class InvalidDagError(ValidationError):
    """The template's steps do not form a valid DAG (duplicates, unknown dependencies, a cycle)."""
    code = 7


class InvalidStateError(TaskerError):
    """An illegal transition, e.g. cancelling a completed task. ``details`` names both states."""
    code = 8


class StaleClaimError(TaskerError):
    """The claim is no longer current: its lease expired and the step was claimed again, its deadline
    (``timeout_seconds``) passed, or its task was cancelled or timed out."""
    code = 9


class DatabaseError(TaskerError):
    code = 10


class TimeoutError(TaskerError):  # noqa: A001 - mirrors the C error name; use it as tasker.TimeoutError
    """The engine gave up waiting (a database statement or connection timed out). Not Python's builtin
    TimeoutError: refer to it as ``tasker.TimeoutError``."""
    code = 11


class InternalError(TaskerError):
    code = 12


class AbiMismatchError(TaskerError):
    code = 13


#: The error table: each C ABI error code (``tasker_error_code_t`` in include/tasker.h) and the class raised for it,
#: the same classes in every binding. A code this binding does not know raises ``TaskerError``.
ERROR_CLASSES: dict[int, type[TaskerError]] = {
    1: ValidationError,  # TASKER_ERROR_INVALID_ARGUMENT
    2: InvalidHandleError,  # TASKER_ERROR_INVALID_HANDLE
    3: InvalidUtf8Error,  # TASKER_ERROR_INVALID_UTF8
    4: InvalidJsonError,  # TASKER_ERROR_INVALID_JSON
    5: NotFoundError,  # TASKER_ERROR_NOT_FOUND
    6: ConflictError,  # TASKER_ERROR_CONFLICT
    7: InvalidDagError,  # TASKER_ERROR_INVALID_DAG
    8: InvalidStateError,  # TASKER_ERROR_INVALID_STATE
    9: StaleClaimError,  # TASKER_ERROR_STALE_CLAIM
    10: DatabaseError,  # TASKER_ERROR_DATABASE
    11: TimeoutError,  # TASKER_ERROR_TIMEOUT
    12: InternalError,  # TASKER_ERROR_INTERNAL
    13: AbiMismatchError,  # TASKER_ERROR_ABI_MISMATCH
}
assert all(cls.code == code for code, cls in ERROR_CLASSES.items())

#: The codes with which the engine refuses a request's content (what a handler returned, when it is a step result).
REFUSED_INPUT_CODES = frozenset({ValidationError.code, InvalidUtf8Error.code, InvalidJsonError.code})


def error_for_code(code: int, message: str, details_json: str) -> TaskerError:
    try:
        details = json.loads(details_json)
    except ValueError:
        details = {}
    return ERROR_CLASSES.get(code, TaskerError)(message, details)


#: How much of each failed step's error a WorkflowFailedError message carries (the whole one is on the step).
FAILED_STEP_MESSAGE_CHARS = 200
#: How many failed steps a WorkflowFailedError message names (the rest are counted).
FAILED_STEPS_NAMED = 5


class WorkflowFailedError(Exception):
    """Raised by a queue adapter's job when the task it drove ended in ``error`` (``fail_on_error``, on by
    default), so the queue's own tools (Flower, Celery results) show the job failed. Not a core error: it has no C
    ABI code and is never raised by the engine. ``failed_steps`` is a list of ``(step name, error type, message)``;
    the message names them (messages shortened), e.g. ``task 01a2... (fulfillment/order_fulfillment) ended in error:
    process_payment: PermanentError: card declined``."""

    def __init__(self, message: str, task_uuid: str | None = None,
                 failed_steps: list[tuple[str, str, str]] | None = None):
        super().__init__(message)  # args stay (message,): queues rebuild the exception from its args
        self.task_uuid = task_uuid
        self.failed_steps = failed_steps or []

    @classmethod
    def for_task(cls, task: Any) -> "WorkflowFailedError":
        """The error for a task (``tasker.Task``) that ended in ``error``: its failed steps, in step order."""
        failed = [(s.name, str((s.error or {}).get("error_type") or "Error"), str((s.error or {}).get("message") or ""))
                  for s in task.steps if s.state == "error"]
        described = [f"{name}: {kind}: {shorten(text)}" if text else f"{name}: {kind}"
                     for name, kind, text in failed[:FAILED_STEPS_NAMED]]
        if len(failed) > FAILED_STEPS_NAMED:
            described.append(f"and {len(failed) - FAILED_STEPS_NAMED} more failed step(s)")
        steps = "; ".join(described) or "no step failed (the task timed out or was failed as a whole)"
        return cls(f"task {task.uuid} ({task.namespace}/{task.name}) ended in error: {steps}", task.uuid, failed)


def shorten(text: str) -> str:
    """One line of at most FAILED_STEP_MESSAGE_CHARS characters (what logs and queue messages show of an error)."""
    line = " ".join(text.split())
    return line if len(line) <= FAILED_STEP_MESSAGE_CHARS else line[:FAILED_STEP_MESSAGE_CHARS - 1] + "…"


class RetryableError(Exception):
    """Raise from a handler for a failure worth retrying; ``retry_after`` (seconds) overrides the backoff."""

    def __init__(self, message: str = "", retry_after: float | None = None):
        if retry_after is not None and not (
                isinstance(retry_after, (int, float)) and not isinstance(retry_after, bool)
                and math.isfinite(retry_after) and retry_after >= 0):
            raise ValueError(f"retry_after must be a non-negative number of seconds, not {retry_after!r}")
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Raise from a handler when retrying cannot help: the step fails at once."""
