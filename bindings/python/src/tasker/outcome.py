"""Typed views of the engine's JSON answers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """What the host should do next. ``action`` is execute, reenqueue (after ``delay_seconds``), wait, complete,
    error or cancelled. ``requeue_after_seconds`` is the one field a queue needs: re-drive the task after that many
    seconds (0 for execute), or not at all when None. ``waiting_for_handlers`` maps each handler this worker lacks to
    the ready steps waiting for it (another worker that has it will run them)."""

    task_uuid: str
    task_state: str
    execution_status: str
    action: str
    delay_seconds: float | None
    ready_steps: int
    in_progress_steps: int
    finalized: bool
    requeue_after_seconds: float | None = None
    waiting_for_handlers: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, o: dict[str, Any]) -> "Outcome":
        delay, requeue = o.get("delay_seconds"), o.get("requeue_after_seconds")
        return cls(o["task_uuid"], o["task_state"], o["execution_status"], o["action"],
                   None if delay is None else float(delay), o["ready_steps"], o["in_progress_steps"], o["finalized"],
                   None if requeue is None else float(requeue),
                   {w["handler"]: w["steps"] for w in o.get("waiting_for_handlers") or ()})

    @property
    def finished(self) -> bool:
        return self.action in ("complete", "error", "cancelled")


@dataclass(frozen=True)
class Step:
    uuid: str
    name: str
    state: str
    attempts: int
    max_attempts: int
    result: Any
    error: dict[str, Any] | None
    readiness: dict[str, Any]
    raw: dict[str, Any]


@dataclass(frozen=True)
class Task:
    uuid: str
    namespace: str
    name: str
    version: str
    state: str
    context: dict[str, Any]
    steps: list[Step]
    transitions: list[dict[str, Any]]
    raw: dict[str, Any]
    created: bool | None = None
    #: The ready (claimable, unclaimed) steps by the handler they wait for: ``{"ShipOrder": ["ship_order"]}``.
    waiting_for_handlers: dict[str, list[str]] = field(default_factory=dict)

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    @classmethod
    def from_json(cls, t: dict[str, Any], created: bool | None = None) -> "Task":
        steps = [Step(s["step_uuid"], s["name"], s["state"], s["attempts"], s["max_attempts"], s.get("result"),
                      s.get("error"), s["readiness"], s) for s in t["steps"]]
        return cls(t["task_uuid"], t["namespace"], t["name"], t["version"], t["state"], t["context"], steps,
                   t.get("transitions", []), t, created,
                   {w["handler"]: w["steps"] for w in t.get("waiting_for_handlers") or ()})
