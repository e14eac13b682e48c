"""Step handlers and what they receive."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable


MAX_ATTRIBUTES = 64


@dataclass(frozen=True)
class TaskInfo:
    uuid: str
    namespace: str
    name: str
    version: str
    context: dict[str, Any]
    tags: list[str]


@dataclass(frozen=True)
class StepInfo:
    uuid: str
    name: str
    handler: str
    attempt: int
    max_attempts: int
    initialization: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepContext:
    """What a handler's ``process`` gets: the task, the step, the results of the steps it depends on, and the
    attempt's ``deadline`` (the step's ``timeout_seconds`` after the claim, or None)."""

    task: TaskInfo
    step: StepInfo
    dependency_results: dict[str, Any]
    claim_token: str
    attributes: dict[str, str | int | float | bool] = field(default_factory=dict)
    """Span attributes for this step's ``tasker.handler`` span (set them with :meth:`set_attribute`)."""
    deadline: datetime | None = None
    """When this attempt times out (UTC, the engine's clock): past it the engine fails the attempt as a retryable
    ``Timeout`` and refuses its report. ``async`` handlers are cancelled then; sync ones may check ``cancelled``."""
    _heartbeat: Callable[[float | None], datetime] | None = field(default=None, repr=False, compare=False)
    _cancel_at: float | None = field(default=None, repr=False, compare=False)  # time.monotonic() of the deadline

    def set_attribute(self, key: str, value: str | int | float | bool) -> None:
        """Adds an attribute to the trace span of this handler run (OpenTelemetry, when the engine exports)."""
        if not isinstance(key, str) or not key or len(key) > 256:
            raise ValueError("attribute names are 1-256 characters")
        if not isinstance(value, (str, int, float, bool)):
            raise TypeError(f"attribute {key!r} must be a str, int, float or bool, not {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"attribute {key!r} must be a finite number, not {value!r}")
        for text in (key, value) if isinstance(value, str) else (key,):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"attribute {key!r} is text with a lone surrogate, which is not UTF-8") from None
        if key not in self.attributes and len(self.attributes) >= MAX_ATTRIBUTES:
            raise ValueError(f"at most {MAX_ATTRIBUTES} attributes per handler run")
        self.attributes[key] = value

    def heartbeat(self, lease_seconds: float | None = None) -> datetime:
        """Extends this claim's lease (by ``lease_seconds``, default the engine's ``lease_seconds``) so a long step is
        not taken for a crashed worker's; never past ``deadline``. Returns the new lease expiry. Raises
        ``tasker.StaleClaimError`` when the claim is no longer this worker's (the lease expired and the step was
        claimed again, the deadline passed, the task was cancelled): stop working on it then."""
        if self._heartbeat is None:
            raise RuntimeError("this context was not handed out by an engine: there is no claim to heartbeat")
        return self._heartbeat(lease_seconds)

    @property
    def cancelled(self) -> bool:
        """True once the attempt's deadline has passed: a sync handler doing long work checks it and stops (its
        report would be refused anyway). Always False without a deadline or on an engine with a manual clock."""
        return self._cancel_at is not None and time.monotonic() >= self._cancel_at

    @classmethod
    def from_claim(cls, claim: dict[str, Any], heartbeat: Callable[[float | None], datetime] | None = None, *,
                   wall_clock: bool = False) -> "StepContext":
        """The context of a claim (``tasker_steps_claim``'s JSON). ``wall_clock``: the engine's clock is the real
        one, so the deadline can be timed here (a manual test clock only moves when a test moves it)."""
        t, s = claim["task"], claim["step"]
        deadline_at = claim.get("deadline_at")
        deadline = None if deadline_at is None else datetime.fromisoformat(deadline_at)
        cancel_at = None
        if deadline is not None and wall_clock:
            cancel_at = time.monotonic() + (deadline - datetime.now(timezone.utc)).total_seconds()
        return _frozen(cls, {
            "task": _frozen(TaskInfo, {"uuid": t["task_uuid"], "namespace": t["namespace"], "name": t["name"],
                                       "version": t["version"], "context": t["context"], "tags": t["tags"]}),
            "step": _frozen(StepInfo, {"uuid": s["step_uuid"], "name": s["name"], "handler": s["handler"],
                                       "attempt": s["attempt"], "max_attempts": s["max_attempts"],
                                       "initialization": s.get("initialization") or {}}),
            "dependency_results": claim.get("dependency_results") or {},
            "claim_token": claim["claim_token"],
            "attributes": {},
            "deadline": deadline,
            "_heartbeat": heartbeat,
            "_cancel_at": cancel_at,
        })


def _frozen(cls: type[Any], fields: dict[str, Any]) -> Any:
    """An instance of a frozen dataclass with every field given, without its ``__init__``: that sets each field through
    ``object.__setattr__``, about 1 µs an object, and a claim makes three per step (a tenth of what a no-op step costs
    the binding). Filling ``__dict__`` is what that ``__init__`` amounts to; the instance stays frozen."""
    instance = object.__new__(cls)
    instance.__dict__.update(fields)
    return instance


class StepHandler:
    """Subclass and implement ``process`` (sync or ``async def``); optionally ``process_results``.

    Return any JSON-serializable value. Raise ``tasker.RetryableError`` (optionally with ``retry_after``) or
    ``tasker.PermanentError`` to control retries; any other exception is a retryable failure.
    """

    def process(self, context: StepContext) -> Any:  # pragma: no cover - the subclass's job
        raise NotImplementedError(f"{type(self).__name__}.process")

    def process_results(self, output: Any) -> Any:
        """Transforms ``process``'s output before it is stored. The default keeps it as it is."""
        return output
