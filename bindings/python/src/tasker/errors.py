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
    """Bad input: a missing or ill-typed field, a context that fails the input schema, malformed YAML."""
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
    """The claim token is no longer current (the lease expired and the step was claimed again)."""
    code = 9


class DatabaseError(TaskerError):
    code = 10


class TimeoutError(TaskerError):  # noqa: A001 - mirrors the C error name; tasker.TimeoutError
    code = 11


class InternalError(TaskerError):
    code = 12


class AbiMismatchError(TaskerError):
    code = 13


_BY_CODE = {cls.code: cls for cls in (
    ValidationError, InvalidHandleError, InvalidUtf8Error, InvalidJsonError, NotFoundError, ConflictError,
    InvalidDagError, InvalidStateError, StaleClaimError, DatabaseError, TimeoutError, InternalError, AbiMismatchError)}


def error_for_code(code: int, message: str, details_json: str) -> TaskerError:
    try:
        details = json.loads(details_json)
    except ValueError:
        details = {}
    return _BY_CODE.get(code, TaskerError)(message, details)


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
