"""The step loop of ``Engine.handle`` (handlers on a thread pool) and ``Engine.handle_async`` (asyncio): the same loop,
the same rules, as every binding runs it (docs: the step protocol, ABI 2).

    claim the task's ready steps whose handlers are registered here (at most ``concurrency``)
    run them concurrently, up to ``concurrency`` at once
    as steps finish, report them (those that finished together in one call) and, in the same call, claim as many
    next steps as there are free slots
    when nothing runs and no claim is held, return the last outcome

No other policy lives here: when to come back, what is retried, how failure text is cut, what nests too deep are
the engine's to decide, and the returned outcome says what the host does next.
"""
from __future__ import annotations

import time
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import _failure_log, _step
from ._json import dumps
from ._report import send_report, send_reports
from .errors import StaleClaimError, TaskerError
from .handler import StepContext
from .outcome import Outcome

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .engine import Engine

Claims = list[dict[str, Any]]


class _Run:
    """One ``handle`` call: the task, the handlers it may run (fixed when the call starts) and the protocol calls."""

    def __init__(self, engine: Engine, task_uuid: str | None, traceparent: str | None, *,
                 worker_id: str | None = None, lease_seconds: float | None = None):
        # task_uuid None: a Worker's run (worker.py), whose claims come from tasker_work_claim, across tasks.
        self._call = engine._call
        self.handlers = dict(engine._handlers)
        # A Worker (task_uuid None) runs each claim on its own slot thread: there is no hand-off to decide on.
        self.times = engine._handler_times if task_uuid is not None else None
        self.concurrency = engine._concurrency
        self.traceparent = traceparent
        self.wall_clock = not engine._manual_clock
        names = list(self.handlers)
        worker_id = worker_id or engine._worker_id
        request: dict[str, Any] = {"task_uuid": task_uuid, "max_steps": self.concurrency,
                                   "worker_id": worker_id, "handlers": names}
        if traceparent:
            request["traceparent"] = traceparent
        self._claim_request = dumps(request)
        # Lean: a report's claims are of the reported step's task, whose names the caller holds, so each leaves them
        # out, and the outcome is None when steps are claimed (half the bytes of a step's answer).
        self._claim_next: dict[str, Any] = {"handlers": names, "worker_id": worker_id, "lean": True}
        if lease_seconds is not None:
            self._claim_next["lease_seconds"] = lease_seconds
        self.task: dict[str, Any] | None = None  # handle's task as its first claim carries it

    def claim(self) -> tuple[Claims, dict[str, Any]]:
        """The claims and the outcome as JSON (the loop turns only the last outcome into an Outcome)."""
        answer = self._call("tasker_steps_claim", self._claim_request)
        claims = answer["claims"]
        if claims:
            self.task = claims[0]["task"]
        return claims, answer["outcome"]

    def prepare(self, claim: dict[str, Any]) -> tuple[Any, StepContext, dict[str, Any]]:
        """The handler, its context (deadline, heartbeat) and the report's claim fields for one claim."""
        ref = _step.claim_ref(claim, self.traceparent)
        context = StepContext.from_claim(claim, heartbeat=self._heartbeat_for(ref), wall_clock=self.wall_clock)
        return self.handlers.get(context.step.handler), context, ref

    def run_sync(self, claim: dict[str, Any]) -> _step.Report:
        handler, context, ref = self.prepare(claim)
        if handler is None:
            return self.logged(context, self.unknown(context, ref))
        started = time.perf_counter()
        report = _step.run_sync(handler, context, ref)
        if self.times is not None:
            self.times.record(context.step.handler, time.perf_counter() - started)
        return self.logged(context, report)

    def quick(self, claim: dict[str, Any]) -> bool:
        """Whether the claim's handler has been finishing sooner than a pool thread would take it (_quick.py)."""
        return self.times is not None and self.times.quick(claim["step"]["handler"])

    def all_quick(self, claims: deque[dict[str, Any]]) -> bool:
        times = self.times
        return times is not None and all(times.quick(claim["step"]["handler"]) for claim in claims)

    async def run_async(self, claim: dict[str, Any]) -> _step.Report:
        handler, context, ref = self.prepare(claim)
        report = self.unknown(context, ref) if handler is None else await _step.run_async(handler, context, ref)
        return self.logged(context, report)

    @staticmethod
    def logged(context: StepContext, report: _step.Report) -> _step.Report:
        """A failed attempt goes to the host's log (``logging.getLogger("tasker")``) as well as to the engine."""
        if report[0] == _step.FAIL:
            _failure_log.step_failed(context, report[1])
        return report

    def unknown(self, context: StepContext, ref: dict[str, Any]) -> _step.Report:
        # Claims name only registered handlers, so the engine never hands out such a step; reported, not raised,
        # should it ever.
        return _step.FAIL, {**ref, "error": {"message": f"no handler registered for {context.step.handler!r}",
                                             "error_type": "UnknownHandler"}}

    def report(self, report: _step.Report, free: int) -> tuple[Claims, dict[str, Any] | None] | None:
        """Reports a step, claiming up to ``free`` next steps of handle's task in the same call. None when the claim
        was stale (its deadline passed, its lease expired and someone else holds the step, or the task ended
        meanwhile). The outcome is None when steps are claimed."""
        answer = self.send(report, free)
        return None if answer is None else (answer["claims"], answer["outcome"])

    def send(self, report: _step.Report, free: int) -> dict[str, Any] | None:
        """``report``'s call: the engine's whole answer (with ``failed``: the step was reported as a failure after
        all), its claims named after handle's task (left as they are in a Worker's run, which has none: the Worker
        names them); None when the claim was stale."""
        try:
            answer = send_report(self._call, report, self.next_request(free))
        except StaleClaimError:
            return None
        answer["claims"] = _with_task(answer["claims"], self.task)
        return answer

    def report_all(self, task_uuid: str, reports: list[_step.Report],
                   free: int) -> tuple[tuple[Claims, dict[str, Any]] | None, TaskerError | None]:
        """Reports the steps of one task that finished together, in one call. Returns the claims and outcome (None
        when nothing was applied: stale claims) and the first error that is not about a step's own report (the
        store failed, ...), which ``handle`` raises once the steps it holds are run and reported."""
        if len(reports) == 1:
            try:
                return self.report(reports[0], free), None
            except TaskerError as e:
                return None, e
        answer, error = send_reports(self._call, task_uuid, reports, self.next_request(free), self.traceparent)
        return (None if answer is None else (_with_task(answer["claims"], self.task), answer["outcome"])), error

    def next_request(self, free: int) -> dict[str, Any] | None:
        """A report's ``claim_next``: up to ``free`` next steps of the reported step's task (None: none)."""
        return {"max_steps": free, **self._claim_next} if free > 0 else None

    def _heartbeat_for(self, ref: dict[str, Any]) -> Any:
        def heartbeat(lease_seconds: float | None = None) -> datetime:
            # built here, not per step: most steps never beat
            request = {"task_uuid": ref["task_uuid"], "step_uuid": ref["step_uuid"], "claim_token": ref["claim_token"]}
            if lease_seconds is not None:
                request["lease_seconds"] = lease_seconds
            expires = self._call("tasker_step_heartbeat", dumps(request))["lease_expires_at"]
            return datetime.fromisoformat(expires)

        return heartbeat


def _with_task(claims: Claims, task: dict[str, Any] | None) -> Claims:
    """A report's claims (lean: their task without its names) with the names of ``task``, which the caller holds. Their
    context and tags are their own, as every claim's are: a handler may change its copy, and no other step sees it."""
    if task is not None:
        for claim in claims:
            t = claim["task"]
            t["namespace"], t["name"], t["version"] = task["namespace"], task["name"], task["version"]
    return claims


def handle(engine: Engine, task_uuid: str, traceparent: str | None) -> Outcome:
    run = _Run(engine, task_uuid, traceparent)
    claims, outcome = run.claim()
    pending = deque(claims)
    running: dict[Future[_step.Report], int] = {}  # each running step and its place in claim order
    claimed = 0
    failure: TaskerError | None = None  # the first report the engine could not take: raised once nothing is held
    while True:
        if not running and pending and (len(pending) == 1 or run.all_quick(pending)):
            # One step and nothing else, or only quick ones: run them here, no hand-off, and report them together
            # (one crossing for the wave). A step with a deadline is reported as soon as it is done, and a handler
            # that blocked (no longer quick) ends the wave: the steps after it are not run one after the other.
            finished = []
            while pending and (not finished or run.quick(pending[0])):
                claim = pending.popleft()
                finished.append(run.run_sync(claim))
                if claim.get("deadline_at") is not None:
                    break
        else:
            # Steps of quick handlers stay here, the others go to the pool (while this thread runs a quick one).
            held: deque[dict[str, Any]] = deque()
            while pending and len(running) + len(held) < run.concurrency:
                claim = pending.popleft()
                if run.quick(claim):
                    held.append(claim)
                else:
                    running[engine._executor().submit(run.run_sync, claim)] = claimed
                    claimed += 1
            pending.extendleft(reversed(held))
            done = [future for future in running if future.done()] if held else []
            if done:  # reported before the next quick step runs: their leases run on meanwhile
                finished = [future.result() for future in sorted(done, key=running.pop)]
            elif held:
                finished = [run.run_sync(pending.popleft())]
            elif not running:
                if failure is not None:
                    raise failure
                return Outcome.from_json(outcome)
            else:
                from concurrent.futures import FIRST_COMPLETED, wait  # loaded with the pool (engine._executor)

                done, _ = wait(running, return_when=FIRST_COMPLETED)
                finished = [future.result() for future in sorted(done, key=running.pop)]  # reported in claim order
        free = run.concurrency - len(running) - len(pending) if failure is None else 0
        answer, error = run.report_all(task_uuid, finished, free)
        failure = failure or error
        if answer is None and failure is None and not running and not pending:
            answer = run.claim()  # stale, and nothing else: a claim sees what happened
        if answer is not None:
            claims, latest = answer
            outcome = latest or outcome  # None when steps are claimed
            pending.extend(claims)


async def handle_async(engine: Engine, task_uuid: str, traceparent: str | None) -> Outcome:
    import asyncio  # only asyncio hosts pay for it (with the ssl it loads, ~8 MB a process)

    run = _Run(engine, task_uuid, traceparent)

    async def native(fn: Any, *args: Any) -> Any:
        # Memory-store calls take microseconds and never wait on I/O: made on the loop. PostgreSQL calls: on threads.
        return await asyncio.to_thread(fn, *args) if engine._blocking else fn(*args)

    claims, outcome = await native(run.claim)
    pending = deque(claims)
    running: dict[asyncio.Task[_step.Report], int] = {}
    claimed = 0
    failure: TaskerError | None = None
    try:
        while True:
            if not running and len(pending) == 1:
                finished = [await run.run_async(pending.popleft())]
            else:
                while pending and len(running) < run.concurrency:
                    running[asyncio.ensure_future(run.run_async(pending.popleft()))] = claimed
                    claimed += 1
                if not running:
                    if failure is not None:
                        raise failure
                    return Outcome.from_json(outcome)
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                finished = [task.result() for task in sorted(done, key=running.pop)]
            free = run.concurrency - len(running) - len(pending) if failure is None else 0
            answer, error = await native(run.report_all, task_uuid, finished, free)
            failure = failure or error
            if answer is None and failure is None and not running and not pending:
                answer = await native(run.claim)
            if answer is not None:
                claims, latest = answer
                outcome = latest or outcome  # None when steps are claimed
                pending.extend(claims)
    finally:
        for task in running:  # handle_async itself was cancelled or failed: its steps' reports would be refused
            task.cancel()

