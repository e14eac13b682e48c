"""Worker mode: ``tasker.Worker`` pulls ready steps of its handlers from every task (``tasker_work_claim``), runs them
with the same step runner as ``Engine.handle`` (context, deadline, cancellation, failure reports) and reports each
one, going on with the same task in the same call when a next step of it is ready. No queue needed: PostgreSQL is
the queue (the engine waits for work with LISTEN/NOTIFY).

    worker = tasker.Worker(engine, concurrency=8)
    worker.run()                      # until SIGTERM/SIGINT or worker.stop(); or: python -m tasker worker app:factory

Threads: ``2 * concurrency`` step threads run handlers, at most ``concurrency`` at once (a thread whose step's report
is on its way has handed its slot back); one claimer thread waits for work, and while steps are short claims up to
``prefetch`` more than the free slots, held in hand until a slot frees; one monitor thread heartbeats
long steps and logs throughput (a dead worker's steps need nothing from here: a work claim takes over an expired
lease); the thread that calls ``run`` waits for a stop
and shuts down. ``async def`` handlers run on the application's event loop under ``await worker.run_async()``, and on
an event loop of their own on their step thread under ``run`` (as under ``handle``); cancelled at their deadline
either way.
"""
from __future__ import annotations

import concurrent.futures
import inspect
import logging
import math
import signal
import threading
import time
from collections import deque
from datetime import datetime, timezone
from types import FrameType
from typing import TYPE_CHECKING, Any, Sequence

from . import _step
from ._json import dumps
from ._runner import _Run, _with_task
from .errors import InvalidHandleError, StaleClaimError, ValidationError
from .engine import Engine
from .handler import StepHandler

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger("tasker.worker")

# The same defaults and option names (in each language's casing) in the Python, Ruby and Node workers.
DEFAULT_CONCURRENCY = 8
#: Prefetch: steps claimed beyond the free slots, held until a slot frees (graphile-worker's local queue, Celery's
#: prefetch). A claim across tasks costs about as much for 16 steps as for 8, so an 8-slot worker's claims of 16 cost
#: half as much a step (two C# workers of 8 slots: 1.56-1.60x graphile-worker's defaults without, 2.11-2.46x with;
#: docs/performance.md, "Session 36"). Only while steps are short: a prefetched step's lease and deadline run while it
#: waits, and no other worker can take it before its lease runs out (after that, ``_still_ours`` checks before it
#: starts). While the handlers' mean run time is under this, a step waits about prefetch / concurrency times it; until
#: a step has run, the mean is unknown and nothing is prefetched.
PREFETCH_STEP_SECONDS = 0.01
#: A handler running this long stops the prefetch at once, not only once it returns and moves the mean: steps claimed
#: ahead would wait behind it with their leases running, and once those ran out this worker's own claims would take
#: them over, an attempt each, until the step failed without ever running. Well under any lease worth having (its
#: heartbeats come a third of it apart, at least 1 s), and long next to a short step's stall (a switch of the GIL).
PREFETCH_STOP_SECONDS = 1.0
#: tasker_work_claim's limit on max_steps: claims in hand never exceed it, whatever concurrency + prefetch come to.
MAX_CLAIM_STEPS = 10_000
DEFAULT_GRACE_SECONDS = 25.0  # Sidekiq's default; Kubernetes sends SIGKILL 30 s after SIGTERM
#: How long one claim waits for work. The claimer notices a stop only between claims, so this bounds how long a
#: shutdown may wait for the last claim's answer; work arriving meanwhile wakes the claim at once.
DEFAULT_WAIT_SECONDS = 2.0
DEFAULT_STATS_SECONDS = 60.0
MAX_WAIT_SECONDS = 60.0  # tasker_work_claim's limit
#: A running step's lease is extended every third of the lease it was claimed with (not of what is left of it): two
#: heartbeats may be lost (a slow database) before the lease expires and another worker takes the step. At least
#: 1 s apart, but at most half the lease (a lease under 2 s).
HEARTBEAT_FRACTION = 1 / 3
MIN_HEARTBEAT_SECONDS = 1.0
#: After a claim fails (database unreachable), wait this long, doubling up to the maximum, before claiming again.
CLAIM_RETRY_SECONDS = 0.5
MAX_CLAIM_RETRY_SECONDS = 30.0
#: How long the claimer gives busy slots to free up until all are free before claiming for a few: a claim across
#: tasks costs about as much for 8 steps as for 1 (the Ruby and Node workers wait as long, for all too). All,
#: not half: the step threads take the GIL in turn, so slots free one by one, and claiming at half made claims of 4
#: steps where a C# worker's carry 8; under load that was a third more transactions a step, and the server's CPU with
#: them (docs/performance.md, "Session 25"). With every slot free a claim goes at once.
BATCH_WAIT_SECONDS = 0.01
#: Step threads per slot. A thread hands its slot back when its handler returns, while the step's report is on its
#: way: a second thread runs a step in hand in that slot meanwhile (docs/performance.md, "Session 32" and "Session
#: 37"). At most ``concurrency`` threads run handlers; the others report or wait for a step.
STEP_THREADS_PER_SLOT = 2
#: How long a shutdown waits for reports already on their way to the engine (they are short: one statement each).
REPORT_DRAIN_SECONDS = 10.0
#: The heartbeat thread looks at least this often, so that a step whose first heartbeat is further off (a lease of 3 s
#: or more) need not wake it: with a sleep until the next heartbeat or the stats line, each step started while none
#: ran woke it to learn of a heartbeat minutes away (0.6 switches of threads a step; docs/performance.md, "Session 33").
MONITOR_TICK_SECONDS = 1.0
SHUTDOWN_ERROR_TYPE = "WorkerShutdown"


class Worker:
    """Runs the ready steps of ``engine``'s registered handlers, from any task, ``concurrency`` at a time, until
    ``stop()`` or SIGTERM/SIGINT.

    - ``handlers``: StepHandler classes to register on the engine first (under their class names); the worker runs
      every handler registered on the engine when ``run`` starts.
    - ``prefetch``: steps it may claim beyond its free slots while its steps are short (their mean run time under
      ``PREFETCH_STEP_SECONDS``), held until a slot frees; default ``concurrency``, 0: never. Handlers still run
      ``concurrency`` at a time.
    - ``namespaces``: only steps of tasks in these namespaces (default: all).
    - ``lease_seconds``: the claims' lease (default: the engine's ``lease_seconds``). Steps still running are
      heartbeaten automatically every third of their lease, never past their deadline, so a lease only expires when
      this process died or hung.
    - ``grace_seconds``: on stop, how long steps in flight may take to finish. Steps still running then are reported
      as a retryable failure (``error_type`` ``WorkerShutdown``, retried at once by another worker), so nothing stays
      claimed unreported.
    - ``wait_seconds``: how long each claim waits for work (more than 0, at most 60; 1-5 s is right: a stop is
      noticed between claims).
    - ``stats_seconds``: how often the throughput line is logged (logger ``tasker.worker``; 0: never).
    """

    def __init__(self, engine: Engine, *handlers: type[StepHandler], concurrency: int = DEFAULT_CONCURRENCY,
                 prefetch: int | None = None, namespaces: Sequence[str] | None = None,
                 lease_seconds: float | None = None, grace_seconds: float = DEFAULT_GRACE_SECONDS,
                 wait_seconds: float = DEFAULT_WAIT_SECONDS, stats_seconds: float = DEFAULT_STATS_SECONDS,
                 worker_id: str | None = None):
        if not isinstance(engine, Engine):
            raise ValidationError(f"Worker needs a tasker.Engine, not {engine!r}")
        if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
            raise ValidationError(f"concurrency must be an integer of at least 1, not {concurrency!r}")
        if prefetch is not None and (not isinstance(prefetch, int) or isinstance(prefetch, bool) or prefetch < 0):
            raise ValidationError(f"prefetch must be an integer of at least 0, not {prefetch!r}")
        if isinstance(namespaces, str) or (namespaces is not None and not (
                namespaces and all(isinstance(n, str) and n for n in namespaces))):
            raise ValidationError(f"namespaces must be a non-empty list of namespace names, not {namespaces!r}")
        _seconds("lease_seconds", lease_seconds, allow_none=True, minimum_exclusive=0)
        _seconds("grace_seconds", grace_seconds)
        _seconds("wait_seconds", wait_seconds, maximum=MAX_WAIT_SECONDS, minimum_exclusive=0)
        _seconds("stats_seconds", stats_seconds)
        engine.register_handlers(*handlers)
        self.engine = engine
        self.concurrency = concurrency
        self.prefetch = concurrency if prefetch is None else prefetch
        self.namespaces = None if namespaces is None else list(namespaces)
        self.lease_seconds = lease_seconds
        self.grace_seconds = float(grace_seconds)
        self.wait_seconds = float(wait_seconds)
        self.stats_seconds = float(stats_seconds)
        self.worker_id = worker_id or engine._worker_id
        # Everything below is guarded by _cond. Claims in hand (pending + running + reserved) never exceed the
        # capacity (concurrency, plus prefetch while steps are short): a claim or a report reserves what it may fill
        # before it asks the engine. Handlers running never exceed concurrency: a pending claim starts only in a free
        # slot, and a slot is free once its handler returned, while the step's report is on its way.
        lock = threading.RLock()  # re-entrant: stop() may run in a signal handler, on a thread holding it
        self._cond = threading.Condition(lock)  # the counts changed: a slot is free, the worker stops
        self._has_work = threading.Condition(lock)  # claims are pending: wakes as many step threads as claims
        self._stop_requested = threading.Condition(lock)  # wakes the thread in run()
        self._pending: deque[dict[str, Any]] = deque()  # claimed, not started
        self._running: dict[str, dict[str, Any]] = {}  # claim token -> claim whose handler runs now
        self._since: dict[str, float] = {}  # claim token -> when its slot took it (time.monotonic())
        self._reserved = 0  # claims promised to a claim or a report's claim_next on its way to the engine
        self._mean_run = math.nan  # the handlers' mean run time, exponentially weighted (nan: none ran yet)
        self._claimer_waits_for = math.inf  # free slots the waiting claimer goes on with (inf: it is not waiting)
        self._reporting = 0  # reports on their way to the engine
        self._stopping = False  # no new claims; steps in hand still run
        self._closing = False  # the grace period is over: what is still in hand is reported as WorkerShutdown
        self._forced = False
        self._signalled = False  # a signal came: the next one forces the stop (not after the worker's own stop)
        self._fatal: InvalidHandleError | None = None  # the engine was closed under the worker: run raises it
        self._started = False
        self._done = threading.Event()
        self._wake_monitor = threading.Event()  # a new step to heartbeat, or the end
        self._monitor_wakes_at = 0.0  # time.monotonic() when the monitor thread wakes next
        self._loop: asyncio.AbstractEventLoop | None = None  # run_async: async handlers run on it
        self._on_loop: set[concurrent.futures.Future[Any]] = set()  # their runs, cancelled after the grace period
        self._beats: dict[str, list[Any]] = {}  # claim token -> [next beat (monotonic), deadline (monotonic), fn]
        self.stats = WorkerStats()

    def __repr__(self) -> str:
        return f"<tasker.Worker {self.worker_id} concurrency={self.concurrency} prefetch={self.prefetch}>"

    # ---- control ------------------------------------------------------------------------------------

    def stop(self, *, force: bool = False) -> None:
        """Stops claiming work; steps in flight get ``grace_seconds`` to finish (``force``: none). Thread-safe and
        callable from a signal handler; ``run`` returns once the worker is down."""
        with self._cond:
            self._stopping = True
            self._forced = self._forced or force
            self._cond.notify_all()
            self._stop_requested.notify_all()

    def run(self, *, burst: bool = False, handle_signals: bool | None = None) -> WorkerStats:
        """Runs until ``stop()`` or SIGTERM/SIGINT (a second signal stops without waiting for the grace period), then
        shuts down gracefully and returns the counts. ``burst``: stop as soon as no work is ready and nothing runs
        (tests, batch jobs). ``handle_signals`` (default: when called on the main thread, the only one Python runs
        signal handlers on): install SIGTERM/SIGINT handlers for the run, restored after. Raises
        ``InvalidHandleError`` once down when the engine was closed under it (it stops at once then, as the Node
        worker does: a closed engine does not come back, so its claims are not retried)."""
        handle_signals = _handle_signals(handle_signals)
        with self._cond:
            if self._started:
                raise RuntimeError("a Worker runs once: create a new one")
            self._started = True
        previous = {}
        if handle_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._on_signal)
        try:
            self._serve(burst)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return self.stats

    async def run_async(self, *, burst: bool = False, handle_signals: bool | None = None) -> WorkerStats:
        """``run`` for asyncio applications: ``async def`` handlers run on the running event loop (so they may share
        its clients and pools), cancelled at their deadline; sync handlers still run on the worker's threads, and the
        claims, reports and heartbeats never block the loop. Installs SIGTERM/SIGINT handlers on the loop when it
        runs on the main thread. Cancelling the call stops the worker gracefully (it returns once it is down)."""
        import asyncio  # only asyncio hosts pay for it (with the ssl it loads, ~8 MB a process)

        loop = asyncio.get_running_loop()
        handle_signals = _handle_signals(handle_signals)
        installed = []
        if handle_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, self._on_signal, signum, None)
                installed.append(signum)
        self._loop = loop
        done = loop.create_future()

        def serve() -> None:
            try:
                result: Any = self.run(burst=burst, handle_signals=False)
                loop.call_soon_threadsafe(_settle, done, result, None)
            except BaseException as e:  # noqa: BLE001 - handed to the awaiting coroutine
                loop.call_soon_threadsafe(_settle, done, None, e)

        threading.Thread(target=serve, name="tasker-worker", daemon=True).start()
        try:
            try:
                stats: WorkerStats = await asyncio.shield(done)
                return stats
            except asyncio.CancelledError:
                self.stop()
                await asyncio.wait({done})
                raise
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        # Only a signal sent before makes this one force the stop, not the worker's own stop (burst: no work left).
        signalled, self._signalled = self._signalled, True
        if signalled:
            log.warning("worker %s: %s again: stopping now, steps still running are reported as %s",
                        self.worker_id, name, SHUTDOWN_ERROR_TYPE)
            self.stop(force=True)
        else:
            log.info("worker %s: %s: no new work; waiting up to %g s for %d running steps (send it again to stop now)",
                     self.worker_id, name, self.grace_seconds, len(self._running))
            self.stop()

    # ---- the threads ----------------------------------------------------------------------------------

    def _serve(self, burst: bool) -> None:
        self._run = _Run(self.engine, None, None, worker_id=self.worker_id, lease_seconds=self.lease_seconds)
        if not self._run.handlers:
            raise ValidationError("the worker has no handlers: register them on the engine (engine.register_handlers)"
                                  " or pass the classes to tasker.Worker(engine, ValidateOrder, ...)")
        request: dict[str, Any] = {"handlers": list(self._run.handlers), "worker_id": self.worker_id,
                                   "wait_seconds": self.wait_seconds}
        if self.namespaces is not None:
            request["namespaces"] = self.namespaces
        if self.lease_seconds is not None:
            request["lease_seconds"] = self.lease_seconds
        self._claim_request = request
        self._async_handlers = {name for name, handler in self._run.handlers.items()
                                if inspect.iscoroutinefunction(getattr(handler, "process", None))}
        self._log_start()
        self.stats._start()
        slots = [threading.Thread(target=self._slot, name=f"tasker-worker-step-{n}", daemon=True)
                 for n in range(STEP_THREADS_PER_SLOT * self.concurrency)]
        # Daemon threads: a handler that ignores its deadline must not keep the process alive after shutdown.
        claimer = threading.Thread(target=self._claimer, args=(burst,), name="tasker-worker-claim", daemon=True)
        monitor = threading.Thread(target=self._monitor, name="tasker-worker-monitor", daemon=True)
        for thread in (*slots, claimer, monitor):
            thread.start()
        try:
            with self._cond:
                while not self._stopping:
                    self._stop_requested.wait(1.0)  # signal handlers run during the wait (lock waits are interruptible)
        finally:  # also on KeyboardInterrupt (run without its signal handlers): shut down, leave nothing claimed
            self.stop()
            self._shut_down(claimer)
            self._done.set()
            self._wake_monitor.set()
            monitor.join(timeout=1.0)
            log.info("worker %s stopped: %s", self.worker_id, self.stats.summary())
        if self._fatal is not None:
            raise self._fatal

    def _claimer(self, burst: bool) -> None:
        retry = CLAIM_RETRY_SECONDS
        while True:
            with self._cond:
                self._claimer_waits_for = 1
                while not self._stopping and self._free() <= 0:
                    self._cond.wait()
                capacity = self._capacity()
                self._claimer_waits_for = capacity
                if not self._stopping and self._free() < capacity:
                    self._cond.wait_for(lambda: self._stopping or self._free() >= capacity,
                                        timeout=BATCH_WAIT_SECONDS)
                self._claimer_waits_for = math.inf
                if self._stopping:
                    return
                free = self._free()
                self._reserved += free
                idle = not self._running and not self._pending and not self._reporting and self._reserved == free
            claims: list[dict[str, Any]] = []
            failed = False
            try:
                answer = self.engine._call("tasker_work_claim", dumps({**self._claim_request, "max_steps": free}))
                claims = answer["claims"]
                retry = CLAIM_RETRY_SECONDS
            except Exception as e:  # noqa: BLE001 - the database may come back: keep the worker up and say so
                # Closed, the engine never comes back: stop (as in Ruby and Node). Whatever the error: a claim in flight
                # when the engine closed may fail otherwise (its wait cancelled), and a retry would log a second error.
                if self.engine.closed:
                    self._fatal = InvalidHandleError(f"the engine was closed while worker {self.worker_id} ran: "
                                                     "stop the worker first")
                    log.error("worker %s: %s", self.worker_id, self._fatal)
                    self.stop(force=True)
                    return
                log.error("worker %s: claiming work failed (%s: %s); trying again in %g s", self.worker_id,
                          type(e).__name__, e, retry)
                failed = True
            finally:
                with self._cond:
                    self._reserved -= free
            self._adopt(claims)
            if failed:
                with self._cond:
                    self._cond.wait_for(lambda: self._stopping, timeout=retry)
                retry = min(retry * 2, MAX_CLAIM_RETRY_SECONDS)
                continue
            if burst and idle and not claims:
                log.info("worker %s: no work left (burst)", self.worker_id)
                self.stop()

    def _slot(self) -> None:
        claim: dict[str, Any] | None = None  # a claim this thread took in hand itself (its task's next step)
        while True:
            with self._cond:
                if claim is None:
                    while not (self._pending and self._slot_open()) and not self._closing:
                        self._has_work.wait()
                    if self._closing:
                        return
                    claim = self._pending.popleft()
                    self._take_slot(claim)
            token = claim["claim_token"]
            ours = self._still_ours(claim)
            with self._cond:
                if token not in self._running:  # the grace period ended meanwhile: given up as WorkerShutdown
                    claim = None
                    continue
                if not ours:
                    self._leave_slot(token)
                    self._slot_opened()
                    self._slot_freed()
                    claim = None
                    continue
            self._track(claim)
            try:
                report = self._run_step(claim)
            except BaseException as e:  # noqa: BLE001 - run_sync re-raises only these; a step thread must go on
                report = _step.failure(_step.claim_ref(claim, None), e)
            finally:
                self._untrack(token)
            with self._cond:
                self._note_run(report)
                if self._leave_slot(token) is None:
                    claim = None
                    continue  # the grace period ended while it ran: reported as WorkerShutdown already
                # The slot is free now, while the report is on its way: a step in hand starts in it (its report's
                # commit no longer idles the slot). The report may claim its task's next step (claim_next), one: the
                # other steps it makes ready go to the next work claim, which writes them with other tasks' claims at
                # once (one task's writes take turns; docs/performance.md). A completed last step has no next step.
                last = claim.get("steps_left") == 0 and report[0] == _step.COMPLETE
                free = 0 if self._stopping or last else min(1, self._free())
                self._reserved += free
                self._reporting += 1
                self._slot_opened()
                self._slot_freed()
            claims = self._report(claim, report, free)
            with self._cond:
                self._reserved -= free
                claim = None
                if claims and not self._closing:
                    # The task's next step waits behind the steps claimed ahead: with a slot open this thread runs the
                    # oldest claim in hand (no hand-off), else that claim waits for a slot like the others.
                    self._pending.extend(claims)
                    if self._slot_open():
                        claim = self._pending.popleft()
                        self._take_slot(claim)
                        if self._slot_open():
                            self._slot_opened()  # another open slot for the claim behind it
                    claims = []
                if not claims:
                    self._reporting -= 1
                    self._slot_freed()  # the claimer may claim; a shutdown may end
            if claims:  # the grace period ended while this report was on its way: the shutdown waits for these
                self._release(claims)
                with self._cond:
                    self._reporting -= 1
                    self._cond.notify_all()

    def _still_ours(self, claim: dict[str, Any]) -> bool:
        """Whether a step may start. A step claimed ahead waits in hand with no heartbeat; once its lease runs out,
        another worker's claim may take it over. Then a heartbeat asks the engine first: refused, the step is not run
        (``stale``) and its task is evaluated; failed (the database), it is not run either (``unreported``), and the
        next claim of a worker with its handler takes it over."""
        # Ran out, not about to (the engine caps a lease at the step's deadline, so that is covered too): a fresh claim
        # with a short lease needs no round trip, and one that runs out after it started is heartbeaten in time (the
        # first beat comes at half what is left).
        if not self._run.wall_clock or datetime.fromisoformat(claim["lease_expires_at"]) > datetime.now(timezone.utc):
            return True
        try:
            expires = self._run._heartbeat_for(_step.claim_ref(claim, None))(self.lease_seconds)
        except StaleClaimError as e:
            if self._closing:
                return False  # refused because the shutdown gave it up meanwhile, not taken over
            self.stats._count("stale")
            log.warning("worker %s: step %s waited in hand past its lease or deadline and is no longer this worker's "
                        "(%s); not run", self.worker_id, _name(claim), e)
            self._evaluate(claim["task"]["task_uuid"])
            return False
        except Exception as e:  # noqa: BLE001 - unconfirmed, it may be another worker's: its lease gives it back
            self.stats._count("unreported")
            log.error("worker %s: could not confirm the claim of step %s, which waited in hand past its lease "
                      "(%s: %s); not run: its lease gives it back", self.worker_id, _name(claim), type(e).__name__, e)
            return False
        claim["lease_expires_at"] = expires.isoformat()  # its heartbeats go on from the new lease
        return True

    def _run_step(self, claim: dict[str, Any]) -> _step.Report:
        """On this thread; under run_async, an ``async def`` handler on the application's event loop."""
        if self._loop is None or claim["step"]["handler"] not in self._async_handlers:
            return self._run.run_sync(claim)
        import asyncio

        future = asyncio.run_coroutine_threadsafe(self._run.run_async(claim), self._loop)
        with self._cond:
            self._on_loop.add(future)
        try:
            return future.result()
        finally:
            with self._cond:
                self._on_loop.discard(future)

    def _report(self, claim: dict[str, Any], report: _step.Report, free: int) -> list[dict[str, Any]]:
        """Reports a step (claiming up to ``free`` next steps of its task) and returns the next claims."""
        try:
            answer = self._run.send(report, free)
        except Exception as e:  # noqa: BLE001 - the step stays claimed; its lease expiry gives it back
            self.stats._count("unreported")
            log.error("worker %s: reporting step %s failed (%s: %s); it runs again once its lease expires",
                      self.worker_id, _name(claim), type(e).__name__, e)
            return []
        if answer is None:
            self.stats._count("stale")
            log.warning("worker %s: the report of step %s was refused: its claim was no longer current "
                        "(deadline passed, lease lost or task ended)", self.worker_id, _name(claim))
            # As handle claims once more then: evaluating the task records what happened (the attempt's Timeout)
            # now, and makes the step ready for its next attempt.
            self._evaluate(claim["task"]["task_uuid"])
            return []
        # What the engine got, not what the handler returned: a result that is not JSON, or one the engine refused,
        # failed the step.
        self.stats._count("failed" if answer["failed"] else "completed")
        return _with_task(answer["claims"], claim["task"])

    def _evaluate(self, task_uuid: str) -> None:
        try:
            self.engine.evaluate(task_uuid)
        except Exception as e:  # noqa: BLE001 - a later work claim takes the expired claim over all the same
            log.warning("worker %s: evaluating task %s failed (%s: %s)", self.worker_id, task_uuid, type(e).__name__, e)

    def _adopt(self, claims: list[dict[str, Any]]) -> None:
        """Takes claims in hand; once the grace period is over, reports them as WorkerShutdown instead."""
        if not claims:
            return
        with self._cond:
            if not self._closing:
                self._pending.extend(claims)
                self._has_work.notify(min(len(claims), self._open_slots()))
                return
        self._release(claims)

    def _slot_freed(self) -> None:
        """Wakes the claimer once as many slots are free as it waits for, and a shutdown at every change (lock held).
        Not at every slot freed: each wake-up is a switch of threads (and of the GIL), and the claimer waiting for
        every slot before a claim of several went back to sleep at all but the last (docs/performance.md, "Session
        33")."""
        if self._stopping or self._free() >= self._claimer_waits_for:
            self._cond.notify_all()

    def _free(self) -> int:
        """Claims the worker may still take in hand (lock held)."""
        return max(0, self._capacity() - len(self._running) - len(self._pending) - self._reserved)

    def _capacity(self) -> int:
        short = self._mean_run < PREFETCH_STEP_SECONDS  # False while nan: no step ran yet
        if short and self._since:  # the oldest first: slots take claims under the lock, in time order
            short = time.monotonic() - next(iter(self._since.values())) < PREFETCH_STOP_SECONDS
        return min(self.concurrency + (self.prefetch if short else 0), MAX_CLAIM_STEPS)

    def _take_slot(self, claim: dict[str, Any]) -> None:
        """A slot takes a claim from hand (lock held)."""
        self._running[claim["claim_token"]] = claim
        self._since[claim["claim_token"]] = time.monotonic()

    def _leave_slot(self, token: str) -> dict[str, Any] | None:
        """Its slot is free (lock held); the claim, or None when the shutdown gave it up already."""
        self._since.pop(token, None)
        return self._running.pop(token, None)

    def _note_run(self, report: _step.Report) -> None:
        """Keeps the handlers' mean run time (lock held), from the handler run the report carries: the handler alone,
        not the step's context, a failure's log line or an async handler's hop to its loop."""
        run = report[1].get("handler")
        if run is None:  # the handler did not run (its step's context could not be built)
            return
        ran = run["finished_at"] - run["started_at"]
        self._mean_run = ran if math.isnan(self._mean_run) else self._mean_run + (ran - self._mean_run) / 8

    def _open_slots(self) -> int:
        """Slots no handler runs in (lock held)."""
        return self.concurrency - len(self._running)

    def _slot_open(self) -> bool:
        return self._open_slots() > 0

    def _slot_opened(self) -> None:
        """A slot freed: a pending claim may start in it (lock held)."""
        if self._pending:
            self._has_work.notify()

    def _shut_down(self, claimer: threading.Thread) -> None:
        deadline = time.monotonic() + self.grace_seconds
        with self._cond:
            while (self._running or self._pending or self._reporting or claimer.is_alive()) and not self._forced:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, 0.1))  # the claimer ends without a notification
            self._closing = True
            forced = self._forced
            left = list(self._running.values()) + list(self._pending)
            self._running.clear()
            self._since.clear()
            self._pending.clear()
            for future in self._on_loop:  # async handlers on the application's loop: cancelled (CancelledError)
                future.cancel()
            self._has_work.notify_all()  # the step threads end
        # A claim or a report still on its way reports what it brings back itself (_adopt): wait for it before giving
        # steps up, as the Ruby and Node workers do: a step given up is ready at once, and a claim of ours still
        # waiting (a forced stop, a grace period shorter than the claim's wait) would take it again, another attempt.
        claimer.join(timeout=self.wait_seconds + REPORT_DRAIN_SECONDS)
        with self._cond:
            self._cond.wait_for(lambda: not self._reporting, timeout=REPORT_DRAIN_SECONDS)
        if left and forced:  # no grace period was given
            log.warning("worker %s: %d steps still running at a forced stop: reported as %s", self.worker_id, len(left),
                        SHUTDOWN_ERROR_TYPE)
        elif left:
            log.warning("worker %s: %d steps did not finish within the grace period (%g s): reported as %s",
                        self.worker_id, len(left), self.grace_seconds, SHUTDOWN_ERROR_TYPE)
        self._release(left)

    def _release(self, claims: list[dict[str, Any]]) -> None:
        """Reports claims this worker will not finish as a retryable failure, retried at once elsewhere (the attempt
        was counted when the step was claimed)."""
        for claim in claims:
            report = _step.FAIL, {**_step.claim_ref(claim, None), "error": {
                "message": f"worker {self.worker_id} shut down before the step finished (grace period "
                           f"{self.grace_seconds:g} s)",
                "error_type": SHUTDOWN_ERROR_TYPE, "permanent": False, "retry_after_seconds": 0}}
            try:
                if self._run.report(report, 0) is not None:
                    self.stats._count("shutdown")
            except Exception as e:  # noqa: BLE001 - its lease expiry gives the step back
                log.error("worker %s: reporting step %s as %s failed (%s: %s); it runs again once its lease expires",
                          self.worker_id, _name(claim), SHUTDOWN_ERROR_TYPE, type(e).__name__, e)

    # ---- heartbeats and the throughput line -------------------------------------------------------------

    def _track(self, claim: dict[str, Any]) -> None:
        """Schedules heartbeats for a step: every third of its lease, until its deadline. Not with a manual clock,
        whose lease times mean nothing in real time."""
        if not self._run.wall_clock:
            return
        now = datetime.now(timezone.utc)
        lease = (datetime.fromisoformat(claim["lease_expires_at"]) - now).total_seconds()
        deadline = None
        if claim.get("deadline_at"):
            deadline = time.monotonic() + (datetime.fromisoformat(claim["deadline_at"]) - now).total_seconds()
        if deadline is not None and time.monotonic() + lease >= deadline:
            return  # the lease already reaches the deadline: nothing a heartbeat could extend
        beat = self._run._heartbeat_for(_step.claim_ref(claim, None))
        interval = _interval(lease)
        first = time.monotonic() + interval
        with self._cond:
            self._beats[claim["claim_token"]] = [first, deadline, beat, _name(claim), interval]
            if first < self._monitor_wakes_at:  # it sleeps until after this step's first heartbeat: wake it
                self._wake_monitor.set()

    def _untrack(self, token: str) -> None:
        with self._cond:
            self._beats.pop(token, None)

    def _monitor(self) -> None:
        next_stats = time.monotonic() + self.stats_seconds if self.stats_seconds > 0 else math.inf
        while not self._done.is_set():
            self._wake_monitor.clear()
            now = time.monotonic()
            with self._cond:
                due = [(token, b) for token, b in self._beats.items() if b[0] <= now]
            for token, (_, deadline, beat, name, interval) in due:
                self._heartbeat(token, deadline, beat, name, interval)
            if now >= next_stats:
                line = self.stats.interval_line(len(self._running), len(self._pending))
                log.info("worker %s: %s", self.worker_id, line)
                next_stats = now + self.stats_seconds
            with self._cond:
                upcoming = min((b[0] for b in self._beats.values()), default=math.inf)
                self._monitor_wakes_at = min(upcoming, next_stats, time.monotonic() + MONITOR_TICK_SECONDS)
            self._wake_monitor.wait(max(0.0, self._monitor_wakes_at - time.monotonic()))

    def _heartbeat(self, token: str, deadline: float | None, beat: Any, name: str, interval: float) -> None:
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            self._untrack(token)  # the engine fails the attempt at its deadline: no lease to keep
            return
        try:
            expires = beat(self.lease_seconds)
            lease = (expires - datetime.now(timezone.utc)).total_seconds()
            if deadline is not None and time.monotonic() + lease >= deadline:
                self._untrack(token)  # the lease reaches the deadline (the engine caps it there): nothing to extend
                return
            next_beat = time.monotonic() + interval
        except StaleClaimError as e:
            self._untrack(token)
            with self._cond:
                if token not in self._running:  # its report landed, or the shutdown gave it up: not lost, let go
                    return
            log.warning("worker %s: step %s lost its claim while running (%s); its report will be refused",
                        self.worker_id, name, e.message)
            return
        except Exception as e:  # noqa: BLE001 - try again soon; the lease has two more thirds
            log.warning("worker %s: heartbeat of step %s failed (%s: %s)", self.worker_id, name, type(e).__name__, e)
            next_beat = time.monotonic() + 1.0
        with self._cond:
            if token in self._beats:
                self._beats[token][0] = next_beat

    def _log_start(self) -> None:
        store = "postgres" if self.engine._blocking else "memory"
        log.info("worker %s started: concurrency %d, prefetch %d, handlers %s, namespaces %s, %s store, lease %s, "
                 "grace %g s%s",
                 self.worker_id, self.concurrency, self.prefetch, ", ".join(sorted(self._run.handlers)),
                 "all" if self.namespaces is None else ", ".join(self.namespaces), store,
                 "the engine's" if self.lease_seconds is None else f"{self.lease_seconds:g} s", self.grace_seconds,
                 ", async handlers on the event loop" if self._loop is not None else "")


class WorkerStats:
    """What a worker did: steps ``completed``, ``failed`` (handler failures, timeouts, refused results),
    ``shutdown`` (reported as WorkerShutdown), ``stale`` (reports refused: the claim was no longer current; or a step
    claimed ahead, not run: its lease ran out in hand and the engine refused it, taken over by another worker or past
    its deadline) and ``unreported`` (the report itself failed, or the claim of such a step could not be confirmed:
    the step's lease gives it to the next claim)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.completed = self.failed = self.shutdown = self.stale = self.unreported = 0
        self._started = self._mark = time.monotonic()
        self._marked = 0

    def _start(self) -> None:
        self._started = self._mark = time.monotonic()

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)

    @property
    def steps(self) -> int:
        return self.completed + self.failed

    def interval_line(self, running: int, ahead: int = 0) -> str:
        now = time.monotonic()
        with self._lock:
            steps, elapsed = self.steps - self._marked, now - self._mark
            self._marked, self._mark = self.steps, now
        return (f"{steps} steps in {elapsed:.1f} s ({steps / elapsed if elapsed > 0 else 0:.1f} steps/s), "
                f"{self.failed} failed in all, {running} running, {ahead} claimed ahead")

    def summary(self) -> str:
        elapsed = time.monotonic() - self._started
        return (f"{self.steps} steps in {elapsed:.1f} s ({self.steps / elapsed if elapsed > 0 else 0:.1f} steps/s): "
                f"{self.completed} completed, {self.failed} failed, {self.shutdown} reported as {SHUTDOWN_ERROR_TYPE}, "
                f"{self.stale} stale, {self.unreported} unreported")

    def __repr__(self) -> str:
        return f"<tasker.WorkerStats {self.summary()}>"


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if not future.done():
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


def _interval(lease_seconds: float) -> float:
    return min(max(lease_seconds * HEARTBEAT_FRACTION, MIN_HEARTBEAT_SECONDS), lease_seconds / 2)


def _handle_signals(handle_signals: bool | None) -> bool:
    on_main = threading.current_thread() is threading.main_thread()
    if handle_signals and not on_main:
        raise ValidationError("handle_signals: Python runs signal handlers on the main thread only: run the worker "
                              "there, or pass handle_signals=False and call stop()")
    return on_main if handle_signals is None else bool(handle_signals)


def _name(claim: dict[str, Any]) -> str:
    return f"{claim['step']['name']!r} of task {claim['task']['task_uuid']}"


def _seconds(name: str, value: Any, *, allow_none: bool = False, maximum: float = math.inf,
             minimum_exclusive: float | None = None) -> None:
    if value is None and allow_none:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    if ok and minimum_exclusive is not None:
        ok = value > minimum_exclusive
    if not ok or value > maximum:
        limit = f" and at most {maximum:g}" if maximum != math.inf else ""
        least = "at least 0" if minimum_exclusive is None else f"more than {minimum_exclusive:g}"
        raise ValidationError(f"{name} must be a number of seconds, {least}{limit}, not {value!r}")


__all__ = ["Worker", "WorkerStats", "SHUTDOWN_ERROR_TYPE"]
