"""Worker behaviour stated once for every binding: the same scenarios, with the same names, templates and
numbers, are in bindings/ruby/spec/worker_conformance_spec.rb and bindings/node/test/worker-conformance.test.js (the
README's "The same worker in Python, Ruby and Node"). Memory store, real clock."""
import contextlib
import threading
import time

import tasker
from conftest import CONFORMANCE

DIAMOND = (CONFORMANCE / "templates" / "diamond.yaml").read_text()
DEADLINE = """name: deadline
namespace_name: conformance
version: 1.0.0
steps:
  - name: slow
    handler: { callable: Slow }
    timeout_seconds: 1
    retry: { retryable: true, max_attempts: 2 }
"""


def engine() -> tasker.Engine:
    return tasker.Engine(backoff={"base_seconds": 0.05, "jitter": 0})


def handler(process):
    return type("Scripted", (tasker.StepHandler,), {"process": lambda self, context: process(context)})


def wait_until(seconds: float, what: str, check) -> None:
    finish = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < finish, f"timed out after {seconds} s waiting for {what}"
        time.sleep(0.02)


def test_graceful_shutdown_leaves_nothing_claimed():
    with engine() as e:
        e.register_template(DIAMOND)
        for name in ("Start", "B", "C", "End"):
            e.register_handler(name, handler(lambda context: time.sleep(0.1) or {"ok": True}))
        uuids = [e.create_task("diamond", namespace="conformance").uuid for _ in range(6)]
        worker = tasker.Worker(e, concurrency=3, wait_seconds=0.2, grace_seconds=10)
        thread = threading.Thread(target=worker.run)
        thread.start()
        wait_until(10, "a first step", lambda: worker.stats.completed > 0)
        worker.stop()
        thread.join(15)
        assert not thread.is_alive()
        states = [s.state for uuid in uuids for s in e.get_task(uuid).steps]
        assert "in_progress" not in states
        assert set(states) <= {"complete", "pending"}
        assert (worker.stats.shutdown, worker.stats.failed, worker.stats.unreported) == (0, 0, 0)
        assert worker.stats.completed == states.count("complete")


def test_a_step_past_its_deadline_is_failed_with_a_timeout():
    with engine() as e:
        e.register_template(DEADLINE)
        # The first attempt ignores its deadline (1 s) and returns after 2 s; the second returns at once.
        e.register_handler("Slow", handler(lambda context: (time.sleep(2), "late")[1] if context.step.attempt == 1
                                           else "on time"))
        uuid = e.create_task("deadline", namespace="conformance").uuid
        worker = tasker.Worker(e, concurrency=2, wait_seconds=0.2)
        thread = threading.Thread(target=worker.run)
        thread.start()
        try:
            wait_until(15, "the task", lambda: e.get_task(uuid).state == "complete")
        finally:
            worker.stop()
            thread.join(15)
        slow = e.get_task(uuid).step("slow")
        assert (slow.state, slow.attempts, slow.result, slow.error["error_type"]) == ("complete", 2, "on time", "Timeout")
        assert (worker.stats.stale, worker.stats.completed) == (1, 1)


def test_a_worker_without_a_handler_leaves_its_steps_ready():
    with engine() as e:
        e.register_template(DIAMOND)
        for name in ("Start", "B", "End"):  # no C
            e.register_handler(name, handler(lambda context: {"ok": True}))
        uuids = [e.create_task("diamond", namespace="conformance").uuid for _ in range(2)]
        stats = tasker.Worker(e, wait_seconds=0.2).run(burst=True)
        for uuid in uuids:
            task = e.get_task(uuid)
            assert task.state == "in_progress"
            assert [(s.name, s.state, s.attempts) for s in task.steps] == [
                ("start", "complete", 1), ("b", "complete", 1), ("c", "pending", 0), ("end", "pending", 0)]
        assert (stats.completed, stats.failed) == (4, 0)


# Prefetch: quick steps teach the worker its steps are short; gated ones then hold their slot until the test opens the
# gate, so what the worker claimed ahead is seen in the steps' states.
QUICK = """name: quick
namespace_name: conformance
version: 1.0.0
steps:
  - name: quick
    handler: { callable: Quick }
"""
GATED = QUICK.replace("quick", "gated").replace("Quick", "Gated")
PAIR = """name: pair
namespace_name: conformance
version: 1.0.0
steps:
  - name: first
    handler: { callable: Gated }
  - name: second
    handler: { callable: Quick }
    dependencies: [first]
"""


class Gate:
    def __init__(self, e: tasker.Engine):
        self.opened = threading.Event()
        self.started = 0  # Gated handlers started
        self.order: list[str] = []  # the tasks of the handlers started, in order
        lock = threading.Lock()

        def quick(context):
            with lock:
                self.order.append(context.task.uuid)
            return {"ok": True}

        def gated(context):
            with lock:
                self.started += 1
                self.order.append(context.task.uuid)
            self.opened.wait(10)
            return {"ok": True}

        for template in (QUICK, GATED, PAIR):
            e.register_template(template)
        e.register_handler("Quick", handler(quick))
        e.register_handler("Gated", handler(gated))

    @staticmethod
    def states(e: tasker.Engine, uuids) -> list[str]:
        return [e.get_task(uuid).step("gated").state for uuid in uuids]


def start(worker: tasker.Worker) -> threading.Thread:
    thread = threading.Thread(target=worker.run)
    thread.start()
    return thread


@contextlib.contextmanager
def prefetching_worker(e: tasker.Engine, gate: Gate, **options):
    """A worker of concurrency 1 and prefetch 4, running on its thread for the block; then the gate opens and the
    worker stops (its thread joined)."""
    worker = tasker.Worker(e, concurrency=1, prefetch=4, wait_seconds=0.2, **options)
    thread = start(worker)
    try:
        yield worker, thread
    finally:
        gate.opened.set()
        worker.stop()
        thread.join(15)


def complete(e: tasker.Engine, uuids) -> bool:
    return all(e.get_task(uuid).state == "complete" for uuid in uuids)


def short_steps_learned(e: tasker.Engine, worker: tasker.Worker) -> None:
    """10 quick steps: their mean is short even after a slow first run (a cold start on a busy machine)."""
    for _ in range(10):
        e.create_task("quick", namespace="conformance")
    wait_until(10, "10 quick steps", lambda: worker.stats.completed == 10)


def claimed_ahead(e: tasker.Engine, gate: Gate, gated) -> None:
    """All 5 claimed, and one Gated handler started; a moment later still only that one (concurrency 1)."""
    wait_until(10, "5 gated steps claimed, one started",
               lambda: gate.started >= 1 and gate.states(e, gated).count("in_progress") == 5)
    time.sleep(0.1)
    assert gate.started == 1


def test_a_worker_with_short_steps_claims_ahead_up_to_its_prefetch():
    with engine() as e:
        gate = Gate(e)
        with prefetching_worker(e, gate) as (worker, _):
            short_steps_learned(e, worker)
            gated = [e.create_task("gated", namespace="conformance").uuid for _ in range(5)]
            claimed_ahead(e, gate, gated)
            gate.opened.set()
            wait_until(10, "the gated tasks", lambda: complete(e, gated))
        assert (worker.stats.completed, worker.stats.failed) == (15, 0)


def test_a_worker_claims_no_more_than_its_slots_until_its_steps_are_known_to_be_short():
    with engine() as e:
        gate = Gate(e)
        with prefetching_worker(e, gate):
            gated = [e.create_task("gated", namespace="conformance").uuid for _ in range(3)]
            wait_until(10, "a gated step", lambda: gate.started == 1)
            time.sleep(0.3)
            assert sorted(gate.states(e, gated)) == ["in_progress", "pending", "pending"]
            gate.opened.set()
            wait_until(10, "the gated tasks", lambda: complete(e, gated))


def test_a_stopping_worker_runs_the_steps_it_claimed_ahead():
    with engine() as e:
        gate = Gate(e)
        with prefetching_worker(e, gate, grace_seconds=10) as (worker, thread):
            short_steps_learned(e, worker)
            gated = [e.create_task("gated", namespace="conformance").uuid for _ in range(5)]
            claimed_ahead(e, gate, gated)
            worker.stop()
            gate.opened.set()
            thread.join(15)
            assert not thread.is_alive()
        assert gate.states(e, gated) == ["complete"] * 5
        assert (worker.stats.completed, worker.stats.shutdown, worker.stats.failed) == (15, 0, 0)


def test_a_tasks_next_step_claimed_by_its_report_waits_behind_the_steps_claimed_ahead():
    with engine() as e:
        gate = Gate(e)
        with prefetching_worker(e, gate) as (worker, _):
            short_steps_learned(e, worker)
            pair = e.create_task("pair", namespace="conformance").uuid
            wait_until(10, "the pair's first step", lambda: gate.started == 1)
            gated = [e.create_task("gated", namespace="conformance").uuid for _ in range(3)]
            wait_until(10, "3 gated steps claimed ahead", lambda: gate.states(e, gated).count("in_progress") == 3)
            gate.opened.set()
            wait_until(10, "every task", lambda: complete(e, [pair, *gated]))
        assert gate.order[-5:] == [pair, *gated, pair]  # first, the three claimed ahead, then second


def test_a_worker_claims_nothing_ahead_while_one_of_its_steps_runs_long():
    # Known to be short, steps are claimed ahead; one turning long stops that at once, not when it returns: the steps in
    # hand would wait behind it, and once their leases ran out the worker's own claims would take them over again.
    with engine() as e:
        gate = Gate(e)
        with prefetching_worker(e, gate, lease_seconds=2) as (worker, _):
            short_steps_learned(e, worker)
            gated = [e.create_task("gated", namespace="conformance").uuid for _ in range(2)]
            wait_until(10, "a gated step running, the other claimed ahead",
                       lambda: gate.started == 1 and gate.states(e, gated) == ["in_progress"] * 2)
            time.sleep(2.5)  # the lease of the step in hand ran out
            later = e.create_task("gated", namespace="conformance").uuid
            time.sleep(0.5)  # two of the claimer's waits
            assert gate.states(e, [later]) == ["pending"]
            assert [e.get_task(uuid).step("gated").attempts for uuid in gated] == [1, 1]
            gate.opened.set()
            wait_until(10, "the gated tasks", lambda: complete(e, [*gated, later]))
        assert [gate.order.count(uuid) for uuid in [*gated, later]] == [1] * 3
        assert (worker.stats.completed, worker.stats.stale, worker.stats.failed) == (13, 0, 0)


def test_a_step_claimed_ahead_whose_lease_ran_out_in_hand_runs_once():
    # A step in hand has no heartbeat: once its lease ran out another worker may take it over, and the worker then
    # must not run it too. The steps still its own it runs (a heartbeat confirms each first).
    with engine() as e:
        gate = Gate(e)
        with prefetching_worker(e, gate, lease_seconds=2) as (worker, _):
            short_steps_learned(e, worker)
            gated = [e.create_task("gated", namespace="conformance").uuid for _ in range(5)]
            claimed_ahead(e, gate, gated)
            time.sleep(2.5)  # the leases of the four in hand ran out
            other = tasker.Worker(e, concurrency=1, prefetch=0, wait_seconds=0.2)
            other_thread = start(other)
            try:
                wait_until(10, "the other worker taking a step over", lambda: gate.started == 2)
            finally:
                other.stop()  # its one slot is busy: it claims nothing more
                gate.opened.set()
                other_thread.join(15)
            wait_until(10, "the gated tasks", lambda: complete(e, gated))
        assert [gate.order.count(uuid) for uuid in gated] == [1] * 5
        assert (worker.stats.completed, worker.stats.stale, worker.stats.failed) == (14, 1, 0)
        assert (other.stats.completed, other.stats.failed) == (1, 0)
