"""Step handlers and what they receive."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    """What a handler's ``process`` gets: the task, the step, and the results of the steps it depends on."""

    task: TaskInfo
    step: StepInfo
    dependency_results: dict[str, Any]
    claim_token: str
    attributes: dict[str, str | int | float | bool] = field(default_factory=dict)
    """Span attributes for this step's ``tasker.handler`` span (set them with :meth:`set_attribute`)."""

    def set_attribute(self, key: str, value: str | int | float | bool) -> None:
        """Adds an attribute to the trace span of this handler run (OpenTelemetry, when the engine exports)."""
        if not isinstance(key, str) or not key or len(key) > 256:
            raise ValueError("attribute names are 1-256 characters")
        if not isinstance(value, (str, int, float, bool)):
            raise TypeError(f"attribute {key!r} must be a str, int, float or bool, not {type(value).__name__}")
        if key not in self.attributes and len(self.attributes) >= MAX_ATTRIBUTES:
            raise ValueError(f"at most {MAX_ATTRIBUTES} attributes per handler run")
        self.attributes[key] = value

    @classmethod
    def from_claim(cls, claim: dict[str, Any]) -> "StepContext":
        t, s = claim["task"], claim["step"]
        return cls(
            task=TaskInfo(t["task_uuid"], t["namespace"], t["name"], t["version"], t["context"], t["tags"]),
            step=StepInfo(s["step_uuid"], s["name"], s["handler"], s["attempt"], s["max_attempts"],
                          s.get("initialization") or {}),
            dependency_results=claim.get("dependency_results") or {},
            claim_token=claim["claim_token"],
        )


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
