"""How finished steps reach the engine: one report per call (``tasker_step_complete`` / ``tasker_step_fail``), or the
reports of a wave together (``tasker_steps_report``: one crossing and one outcome for several steps). Either way a
result the engine refuses becomes the step's ``InvalidResult`` failure and a stale claim is dropped: nothing here
raises for a step's sake."""
from __future__ import annotations

from typing import Any, Callable

from . import _step
from ._json import dumps
from .errors import REFUSED_INPUT_CODES, StaleClaimError, TaskerError, error_for_code

Call = Callable[[str, bytes], dict[str, Any]]
Answer = dict[str, Any]  # {"claims": [...], "outcome": {...}}


def send_report(call: Call, report: _step.Report, claim_next: dict[str, Any] | None) -> Answer:
    """Completes or fails a claimed step (with ``claim_next``: claiming the next steps in the same call) and returns
    the engine's answer, with ``failed``: whether the step was reported as a failure after all. A report whose
    content the engine refuses (a result nested deeper than 64 levels, larger than 64 MiB, with a NUL) is sent again
    as the step's ``InvalidResult`` failure. Raises ``StaleClaimError`` when the claim is no longer current."""
    try:
        return _send(call, report, claim_next)
    except TaskerError as e:
        if e.code not in REFUSED_INPUT_CODES:
            raise
        return _send(call, _step.refused(report, e.message), claim_next)


def send_reports(call: Call, task_uuid: str, reports: list[_step.Report], claim_next: dict[str, Any] | None,
                 traceparent: str | None = None) -> tuple[Answer | None, TaskerError | None]:
    """Reports several steps of one task in one call, then claims per ``claim_next``. Returns the answer after all of
    them (None when nothing was applied) and the first error other than a stale claim or a refused result: the
    other reports are made all the same, and the claims the call made are in the answer, so that the caller runs
    and reports them before it raises (no step is left claimed)."""
    encoded = [_step.encode(report) for report in reports]
    request = b'{"task_uuid":' + dumps(task_uuid) + b',"reports":[' + b",".join(body for _, body in encoded) + b"]"
    if claim_next is not None:
        request += b',"claim_next":' + dumps(claim_next)
    if traceparent:
        request += b',"traceparent":' + dumps(traceparent)
    try:
        answer = call("tasker_steps_report", request + b"}")
    except TaskerError as e:
        if e.code not in REFUSED_INPUT_CODES:
            return None, e
        # The request as a whole did not parse (one result nests too deep for it): each on its own finds which.
        return _one_by_one(call, [report for report, _ in encoded], claim_next)
    error = None
    for (report, _), refused in zip(encoded, answer["reports"]):
        if refused is None or refused["code"] == StaleClaimError.code:
            continue
        if refused["code"] not in REFUSED_INPUT_CODES:
            error = error or error_for_code(refused["code"], refused["message"], "{}")
            continue
        try:  # its content was refused: the step fails instead, and that outcome is the newer one
            answer["outcome"] = send_report(call, _step.refused(report, refused["message"]), None)["outcome"]
        except StaleClaimError:
            pass
        except TaskerError as e:
            error = error or e
    return answer, error


def _one_by_one(call: Call, reports: list[_step.Report],
                claim_next: dict[str, Any] | None) -> tuple[Answer | None, TaskerError | None]:
    answer, error = None, None
    for n, report in enumerate(reports, 1):
        try:
            sent = send_report(call, report, claim_next if n == len(reports) and error is None else None)
        except StaleClaimError:
            continue
        except TaskerError as e:
            error = error or e
            continue
        answer = sent if answer is None else {"claims": answer["claims"] + sent["claims"], "outcome": sent["outcome"]}
    return answer, error


def _send(call: Call, report: _step.Report, claim_next: dict[str, Any] | None) -> Answer:
    name, body = report
    if claim_next is not None:
        body = {**body, "claim_next": claim_next}
    (name, body), payload = _step.encode((name, body))
    answer = call(name, payload)
    answer["failed"] = name == _step.FAIL  # a completion whose result is not JSON went as a failure: a Worker counts it
    return answer
