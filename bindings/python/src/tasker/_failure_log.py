"""Step failures through the host's logger: one warning on ``logging.getLogger("tasker")`` per failed attempt (the
task uuid, step name, attempt, error type and a shortened message), never the task's context or a step's result.
Silence or route it with the standard logging configuration, e.g. ``logging.getLogger("tasker").setLevel("ERROR")``.
The records also carry these fields as attributes (``tasker_task_uuid``, ``tasker_step``, ``tasker_attempt``,
``tasker_error_type``) for structured formatters."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import shorten

if TYPE_CHECKING:
    from .handler import StepContext

def step_failed(context: StepContext, body: dict[str, Any]) -> None:
    """Logs the failure report ``body`` (the ``tasker_step_fail`` request) of the step ``context`` ran."""
    import logging  # imported when a step first fails: a process whose steps succeed does not load it

    log = logging.getLogger("tasker")
    if not log.isEnabledFor(logging.WARNING):
        return
    error = body.get("error") or {}
    kind, message = str(error.get("error_type") or "Error"), shorten(str(error.get("message") or ""))
    task, step = context.task, context.step
    log.warning("step %s of task %s (%s/%s) failed, attempt %d of %d: %s: %s", step.name, task.uuid, task.namespace,
                task.name, step.attempt, step.max_attempts, kind, message,
                extra={"tasker_task_uuid": task.uuid, "tasker_step": step.name, "tasker_attempt": step.attempt,
                       "tasker_error_type": kind})
