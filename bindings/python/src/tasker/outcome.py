"""Typed views of the engine's JSON answers."""
from __future__ import annotations

from dataclasses import dataclass, field
from json.decoder import scanstring
from typing import Any

from . import _json


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


class Task:
    """A task as the engine answered for it: its state, context, steps (state, attempts, result, error, readiness) and
    audit trail. Read-only. The answer is decoded when first read beyond ``uuid`` and ``created``: a task is usually
    created only to hand its uuid to a queue, and decoding a whole task (every step with its readiness) took several
    times as long as creating it."""

    __slots__ = ("_uuid", "_created", "_answer", "_raw", "_steps")

    def __init__(self, raw: dict[str, Any] | None, created: bool | None = None, *,
                 uuid: str | None = None, answer: bytes | None = None) -> None:
        self._raw, self._answer, self._created, self._steps = raw, answer, created, None
        self._uuid: str = uuid if uuid is not None else self.raw["task_uuid"]

    @classmethod
    def from_json(cls, t: dict[str, Any], created: bool | None = None) -> "Task":
        return cls(t, created)

    @classmethod
    def from_create_answer(cls, answer: bytes) -> "Task":
        """The task of ``tasker_task_create``'s answer, ``{"created": ..., "task": {"task_uuid": ..., ...}}``, which the
        engine writes in that order: the uuid is read from the front, the rest decoded when first read."""
        for created, prefix in _CREATE_PREFIXES:
            if answer.startswith(prefix):
                try:
                    uuid, end = scanstring(answer[len(prefix):len(prefix) + 40].decode("ascii"), 0)
                except (ValueError, UnicodeDecodeError):
                    break
                if len(uuid) == 36:
                    return cls(None, created, uuid=uuid, answer=answer)
                break
        whole = _json.loads(answer)
        return cls(whole["task"], whole["created"])

    @property
    def raw(self) -> dict[str, Any]:
        """The engine's JSON for the task, as ``tasker_task_get`` answers it."""
        answer = self._answer  # read first: it is cleared only after _raw is set (two threads may both decode)
        if self._raw is None:
            self._raw = _json.loads(answer)["task"]
            self._answer = None
        return self._raw

    uuid = property(lambda self: self._uuid)
    created = property(lambda self: self._created,
                       doc="False when an ``idempotency_key`` matched an existing task (None: not from a create).")
    namespace = property(lambda self: self.raw["namespace"])
    name = property(lambda self: self.raw["name"])
    version = property(lambda self: self.raw["version"])
    state = property(lambda self: self.raw["state"])
    context = property(lambda self: self.raw["context"])
    transitions = property(lambda self: self.raw.get("transitions", []))

    @property
    def steps(self) -> list[Step]:
        if self._steps is None:
            self._steps = [Step(s["step_uuid"], s["name"], s["state"], s["attempts"], s["max_attempts"], s.get("result"),
                                s.get("error"), s["readiness"], s) for s in self.raw["steps"]]
        return self._steps

    @property
    def waiting_for_handlers(self) -> dict[str, list[str]]:
        """The ready (claimable, unclaimed) steps by the handler they wait for: ``{"ShipOrder": ["ship_order"]}``."""
        return {w["handler"]: w["steps"] for w in self.raw.get("waiting_for_handlers") or ()}

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def __repr__(self) -> str:
        return f"<tasker.Task {self._uuid} {self.state}>"

    def __eq__(self, other: object) -> bool:
        """Two views of a task are equal when the engine answered the same for it."""
        if not isinstance(other, Task):
            return NotImplemented
        return (self._uuid, self._created, self.raw) == (other._uuid, other._created, other.raw)

    __hash__ = None  # type: ignore[assignment]  # mutable JSON inside, as the dataclass it was


_CREATE_PREFIXES = ((True, b'{"created":true,"task":{"task_uuid":"'), (False, b'{"created":false,"task":{"task_uuid":"'))
