"""tasker.Worker in this process, on the memory store: claims across tasks, the handle step runner (sync and async
handlers, failures), automatic heartbeats, stop() and the grace period, the log lines, bad options."""
import asyncio
import json
import logging
import re
import signal
import threading
import time

import pytest

import tasker
from conftest import ORDER_CONTEXT, Returns, register_order_handlers

FAST = {"wait_seconds": 0.05, "stats_seconds": 0}


def real_clock_engine():
    """Heartbeats and grace periods are timed against the real clock: no manual clock here."""
    return tasker.Engine(backoff={"jitter": 0})


def create_orders(engine, n):
    return [engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT).uuid
            for _ in range(n)]


def run_in_thread(worker, **options):
    thread = threading.Thread(target=worker.run, kwargs=options, daemon=True)
    thread.start()
    return thread


def test_a_burst_worker_runs_every_ready_step_of_every_task_once():
    with real_clock_engine() as engine:
        register_order_handlers(engine)
        tasks = create_orders(engine, 50)
        stats = tasker.Worker(engine, concurrency=4, **FAST).run(burst=True)
        assert stats.completed == 200 and stats.failed == stats.stale == stats.shutdown == 0
        for uuid in tasks:
            task = engine.get_task(uuid)
            assert task.state == "complete"
            assert [s.attempts for s in task.steps] == [1, 1, 1, 1]
            assert task.step("ship_order").result == {
                "step": "ship_order", "saw": ["process_payment", "reserve_inventory", "validate_order"]}


def test_the_slot_of_a_tasks_completed_last_step_is_claimed_for_while_its_report_is_on_its_way(monkeypatch):
    # Two slots, one 4-step order: each report keeps a place in hand for the next step it claims through claim_next;
    # the last step (steps_left 0) completed has no next step, so while its report is on its way the claimer claims
    # for both.
    asked = []
    asked_for_both = threading.Event()
    seen_during_last_report = []
    report = tasker.Worker._report

    def slow_last_report(worker, claim, answer, free):
        if claim["step"]["name"] == "ship_order":
            seen_during_last_report.append(asked_for_both.wait(5))
        return report(worker, claim, answer, free)

    monkeypatch.setattr(tasker.Worker, "_report", slow_last_report)
    with real_clock_engine() as engine:
        register_order_handlers(engine)
        call = engine._call

        def spy(name, payload):
            if name == "tasker_work_claim":
                asked.append(json.loads(payload)["max_steps"])
                if asked[-1] == 2 and len(asked) > 1:
                    asked_for_both.set()
            return call(name, payload)

        engine._call = spy
        order = create_orders(engine, 1)[0]
        stats = tasker.Worker(engine, concurrency=2, prefetch=0, **FAST).run(burst=True)  # claims sized by slots alone
        assert seen_during_last_report == [True]
        assert asked[0] == 2  # the first claim for both slots
        assert stats.completed == 4 and engine.get_task(order).state == "complete"


def test_with_steps_claimed_ahead_no_more_handlers_run_at_once_than_its_concurrency(monkeypatch):
    # Short steps: the worker holds up to concurrency + prefetch claims; a slot's report claims its order's next step
    # (claim_next), which waits behind the steps claimed ahead, as they all wait for a free slot.
    lock = threading.Lock()
    running = [0, 0]  # now, most at once
    in_hand = []
    free = tasker.Worker._free

    def watched_free(worker):
        in_hand.append(len(worker._running) + len(worker._pending) + worker._reserved)
        return free(worker)

    monkeypatch.setattr(tasker.Worker, "_free", watched_free)

    class Counted(tasker.StepHandler):
        def process(self, context):
            with lock:
                running[0] += 1
                running[1] = max(running)
            time.sleep(0.001)
            with lock:
                running[0] -= 1
            return {"ok": True}

    with real_clock_engine() as engine:
        register_order_handlers(engine, payment=Counted)
        for name in ("ValidateOrder", "ReserveInventory", "ShipOrder"):
            engine.register_handler(name, Counted)
        orders = create_orders(engine, 40)
        stats = tasker.Worker(engine, concurrency=3, prefetch=6, **FAST).run(burst=True)
        assert stats.completed == 160 and all(engine.get_task(u).state == "complete" for u in orders)
    assert running[1] <= 3
    assert 3 < max(in_hand) <= 9


def test_steps_claimed_ahead_still_waiting_when_the_grace_period_ends_are_reported_as_worker_shutdown():
    from test_worker_conformance import Gate, claimed_ahead, prefetching_worker, short_steps_learned
    with real_clock_engine() as engine:
        gate = Gate(engine)
        with prefetching_worker(engine, gate, grace_seconds=0.3, stats_seconds=0) as (worker, thread):
            short_steps_learned(engine, worker)
            gated = [engine.create_task("gated", namespace="conformance").uuid for _ in range(5)]
            claimed_ahead(engine, gate, gated)
            worker.stop()
            thread.join(15)  # the gate stays shut: the running handler is stuck past the grace period
            assert not thread.is_alive()
        steps = [engine.get_task(uuid).step("gated") for uuid in gated]
        assert all(s.state != "in_progress" and s.error["error_type"] == "WorkerShutdown" for s in steps)
        assert (worker.stats.shutdown, worker.stats.completed) == (5, 10)


def hold_first_report(monkeypatch, until: threading.Event) -> list[tuple[int, bool]]:
    """Holds the worker's first report until ``until`` is set (5 s at most). Returns a list that gets, once that report
    goes on, the next steps it claims (``free``) and whether ``until`` was set."""
    reports = []
    held = []
    report = tasker.Worker._report

    def held_first_report(worker, claim, answer, free):
        reports.append(claim["claim_token"])
        if len(reports) == 1:
            held.append((free, until.wait(5)))
        return report(worker, claim, answer, free)

    monkeypatch.setattr(tasker.Worker, "_report", held_first_report)
    return held


def test_with_its_only_slot_busy_a_worker_runs_the_next_step_while_the_last_steps_report_is_on_its_way(monkeypatch):
    # One slot, two one-step tasks. The first step's report is held until the second step has started: the slot went
    # back to the claimer when the first handler returned, and a second thread of the slot runs what it claimed.
    started = []
    second_started = threading.Event()
    held = hold_first_report(monkeypatch, second_started)
    with real_clock_engine() as engine:
        class Work(tasker.StepHandler):
            def process(self, context):
                started.append(context.task.uuid)
                if len(started) == 1:
                    time.sleep(0.2)  # the worker's other thread is waiting for a claim by the time this returns
                else:
                    second_started.set()

        engine.register_template("name: one_step\nnamespace_name: slots\nversion: 1.0.0\n"
                                 "steps:\n  - name: work\n    handler: { callable: Work }\n")
        engine.register_handlers(Work)
        for _ in range(2):
            engine.create_task("one_step", namespace="slots")
        stats = tasker.Worker(engine, concurrency=1, **FAST).run(burst=True)
        assert [waited for _, waited in held] == [True]
        assert stats.completed == 2 and len(set(started)) == 2


def test_a_steps_slot_runs_a_step_claimed_ahead_while_the_steps_report_is_on_its_way(monkeypatch):
    # One slot, two 2-step tasks. The first step's report, which claims its task's next step, is held until a step of
    # the other task has started: the slot went back when the handler returned, not when the report came back.
    started = []
    other_started = threading.Event()
    held = hold_first_report(monkeypatch, other_started)
    # Steps count as short once one ran, however slow the machine: the worker claims a step ahead during the report.
    monkeypatch.setattr(tasker.worker, "PREFETCH_STEP_SECONDS", 60.0)
    with real_clock_engine() as engine:
        class Work(tasker.StepHandler):
            def process(self, context):
                started.append(context.task.uuid)
                if context.task.uuid != started[0]:
                    other_started.set()

        engine.register_template("name: two_steps\nnamespace_name: slots\nversion: 1.0.0\nsteps:\n"
                                 "  - name: first\n    handler: { callable: Work }\n"
                                 "  - name: second\n    handler: { callable: Work }\n    depends_on: [first]\n")
        engine.register_handlers(Work)
        tasks = [engine.create_task("two_steps", namespace="slots").uuid for _ in range(2)]
        stats = tasker.Worker(engine, concurrency=1, prefetch=1, **FAST).run(burst=True)
        assert held == [(1, True)]  # the held report claimed the next step, and the other task's step ran meanwhile
        assert stats.completed == 4 and all(engine.get_task(u).state == "complete" for u in tasks)


def test_a_claim_waits_for_busy_slots_only_briefly_so_a_long_step_does_not_hold_back_new_work():
    # The claimer gives busy slots BATCH_WAIT_SECONDS to free up, so that one claim fills them all; a step that runs
    # on must not keep the free slot idle meanwhile. The long step creates a task and waits for its step to run.
    ran = threading.Event()
    waited = []

    with real_clock_engine() as engine:
        class Long(tasker.StepHandler):
            def process(self, context):
                engine.create_task("short_one", namespace="slots")
                waited.append(ran.wait(5))

        class Short(tasker.StepHandler):
            def process(self, context):
                ran.set()

        for name, handler in (("long_one", "Long"), ("short_one", "Short")):
            engine.register_template(f"name: {name}\nnamespace_name: slots\nversion: 1.0.0\n"
                                     f"steps:\n  - name: work\n    handler: {{ callable: {handler} }}\n")
        engine.register_handlers(Long, Short)
        engine.create_task("long_one", namespace="slots")
        stats = tasker.Worker(engine, concurrency=2, **FAST).run(burst=True)
        assert waited == [True]  # the short step ran in the free slot while the long one still ran
        assert stats.completed == 2


def test_async_handlers_failures_and_retries_go_through_the_step_runner():
    attempts = []

    class FlakyPayment(tasker.StepHandler):
        async def process(self, context):
            await asyncio.sleep(0)
            attempts.append(context.step.attempt)
            if context.step.attempt == 1:
                raise tasker.RetryableError("gateway busy", retry_after=0)
            return {"charged": True}

    class Refuses(tasker.StepHandler):
        def process(self, context):
            raise tasker.PermanentError("out of stock")

    with real_clock_engine() as engine:
        register_order_handlers(engine, payment=FlakyPayment)
        paid = create_orders(engine, 1)[0]
        stats = tasker.Worker(engine, **FAST).run(burst=True)
        assert engine.get_task(paid).state == "complete"
        assert engine.get_task(paid).step("process_payment").result == {"charged": True}
        assert attempts == [1, 2] and stats.failed == 1 and stats.completed == 4

        engine.register_handler("ReserveInventory", Refuses)
        refused = create_orders(engine, 1)[0]
        tasker.Worker(engine, **FAST).run(burst=True)
        step = engine.get_task(refused).step("reserve_inventory")
        assert engine.get_task(refused).state == "error"
        assert step.error["error_type"] == "PermanentError" and step.error["message"] == "out of stock"


@pytest.mark.parametrize("result, error_type", [({"not", "json"}, "TypeError"), ("a\x00b", "InvalidResult")])
def test_a_result_the_step_cannot_be_completed_with_is_counted_as_failed(result, error_type):
    # A result that is not JSON, or that the engine refuses, fails the step: the stats say so, not "completed".
    class Unsendable(tasker.StepHandler):
        def process(self, context):
            return result

    template = ORDER_TEMPLATE_TEXT.replace("{callable: ValidateOrder}", "{callable: ValidateOrder}\n"
                                                                        "    retry: {retryable: false}")
    with real_clock_engine() as engine:
        engine.register_template(template)
        engine.register_handler("ValidateOrder", Unsendable)
        task = engine.create_task("tiny", namespace="fulfillment").uuid
        stats = tasker.Worker(engine, **FAST).run(burst=True)
        assert engine.get_task(task).step("validate_order").error["error_type"] == error_type
        assert (stats.completed, stats.failed) == (0, 1)


def test_handler_classes_passed_to_the_worker_are_registered_and_namespaces_filter_tasks():
    other = ORDER_TEMPLATE_TEXT.replace("namespace_name: fulfillment", "namespace_name: returns")

    class ValidateOrder(Returns):
        pass

    with real_clock_engine() as engine:
        engine.register_template(ORDER_TEMPLATE_TEXT)
        engine.register_template(other)
        mine = engine.create_task("tiny", namespace="fulfillment").uuid
        theirs = engine.create_task("tiny", namespace="returns").uuid
        tasker.Worker(engine, ValidateOrder, namespaces=["fulfillment"], **FAST).run(burst=True)
        assert "ValidateOrder" in engine.handlers
        assert engine.get_task(mine).state == "complete"
        assert engine.get_task(theirs).step("validate_order").state == "pending"


ORDER_TEMPLATE_TEXT = """
name: tiny
namespace_name: fulfillment
version: 1.0.0
steps:
  - name: validate_order
    handler: {callable: ValidateOrder}
"""


def test_a_step_longer_than_its_lease_is_heartbeaten_and_its_report_accepted():
    class Slow(tasker.StepHandler):
        def process(self, context):
            time.sleep(2.5)  # two and a half leases of 1 s: only heartbeats keep the claim this worker's
            return {"done": True}

    with real_clock_engine() as engine:
        register_order_handlers(engine)
        engine.register_handler("ValidateOrder", Slow)
        task = create_orders(engine, 1)[0]
        # The claimer keeps asking for work meanwhile: a lapsed lease would hand the step to it again (attempt 2)
        # and this attempt's report would be refused as stale.
        stats = tasker.Worker(engine, lease_seconds=1, **FAST).run(burst=True)
        step = engine.get_task(task).step("validate_order")
        assert step.state == "complete" and step.attempts == 1 and step.result == {"done": True}
        assert stats.stale == 0 and stats.completed == 4


def stuck_handler():
    """A handler that runs until released (10 s at most): the class, set when a step started, and what releases it."""
    started, release = threading.Event(), threading.Event()

    class Stuck(tasker.StepHandler):
        def process(self, context):
            started.set()
            release.wait(10)

    return Stuck, started, release


def held_heartbeats(engine, until_call):
    """Holds the engine's heartbeat calls until a call named ``until_call`` has returned. Returns two events: a
    heartbeat is on its way (held), and that call returned."""
    beating, landed = threading.Event(), threading.Event()
    call = engine._call

    def spy(name, payload):
        if name == "tasker_step_heartbeat":
            beating.set()
            landed.wait(5)
        answer = call(name, payload)
        if name == until_call:
            landed.set()
        return answer

    engine._call = spy
    return beating, landed


def heartbeat_made(worker):
    """An event set once the worker has made a heartbeat of a step, whatever its answer."""
    made = threading.Event()
    heartbeat = worker._heartbeat

    def spied(*args):
        try:
            heartbeat(*args)
        finally:
            made.set()

    worker._heartbeat = spied
    return made


def test_a_heartbeat_refused_because_the_steps_own_report_landed_first_is_not_warned_about(caplog):
    # The monitor picks a heartbeat as due, the handler returns and its report lands, then the heartbeat goes out and
    # is refused as stale: the step is no longer this worker's to keep, nothing was lost.
    class Quick(tasker.StepHandler):
        def process(self, context):
            beating.wait(5)  # returns once its heartbeat is on its way
            return {"done": True}

    with real_clock_engine() as engine:
        engine.register_template(ORDER_TEMPLATE_TEXT)
        engine.register_handler("ValidateOrder", Quick)
        task = engine.create_task("tiny", namespace="fulfillment").uuid
        beating, _ = held_heartbeats(engine, until_call="tasker_step_complete")  # goes out once the report landed
        # A lease of 3 s: its first heartbeat at 1 s, held until the report lands, leaves 2 s for that.
        worker = tasker.Worker(engine, lease_seconds=3, **FAST)
        beaten = heartbeat_made(worker)
        stats = worker.run(burst=True)
        assert beating.is_set() and beaten.wait(5)
        assert stats.completed == 1 and engine.get_task(task).step("validate_order").attempts == 1
    assert "lost its claim" not in caplog.text


def test_a_heartbeat_refused_because_the_step_was_given_up_at_shutdown_is_not_warned_about(caplog):
    # A heartbeat on its way while a forced stop reports the step as WorkerShutdown is refused as stale: the worker
    # gave the step up itself.
    Stuck, started, release = stuck_handler()

    with real_clock_engine() as engine:
        engine.register_template(ORDER_TEMPLATE_TEXT)
        engine.register_handler("ValidateOrder", Stuck)
        task = engine.create_task("tiny", namespace="fulfillment").uuid
        beating, _ = held_heartbeats(engine, until_call="tasker_step_fail")  # goes out once the step was given up
        worker = tasker.Worker(engine, lease_seconds=3, **FAST)  # the stop comes well inside the lease
        beaten = heartbeat_made(worker)
        thread = run_in_thread(worker)
        assert started.wait(5) and beating.wait(5)
        worker.stop(force=True)
        thread.join(10)
        release.set()
        assert not thread.is_alive() and beaten.wait(5)
        assert worker.stats.shutdown == 1
        assert engine.get_task(task).step("validate_order").error["error_type"] == "WorkerShutdown"
    assert "lost its claim" not in caplog.text


def test_stop_lets_a_running_step_finish_and_reports_it():
    started, release = threading.Event(), threading.Event()

    class Waits(tasker.StepHandler):
        def process(self, context):
            started.set()
            release.wait(5)
            return {"finished": True}

    with real_clock_engine() as engine:
        register_order_handlers(engine)
        engine.register_handler("ValidateOrder", Waits)
        task = create_orders(engine, 1)[0]
        worker = tasker.Worker(engine, grace_seconds=5, **FAST)
        thread = run_in_thread(worker)
        assert started.wait(5)
        worker.stop()
        time.sleep(0.2)
        assert thread.is_alive()  # waiting for the step, within the grace period
        release.set()
        thread.join(5)
        assert not thread.is_alive()
        task = engine.get_task(task)
        assert task.step("validate_order").state == "complete"
        assert task.step("reserve_inventory").state == "pending"  # stopped: its next step was not claimed
        assert worker.stats.completed == 1 and worker.stats.shutdown == 0


def test_a_step_still_running_after_the_grace_period_is_reported_as_worker_shutdown():
    started, release = threading.Event(), threading.Event()

    class Stuck(tasker.StepHandler):
        def process(self, context):
            started.set()
            release.wait(10)
            return {"too": "late"}

    with real_clock_engine() as engine:
        register_order_handlers(engine)
        engine.register_handler("ValidateOrder", Stuck)
        task = create_orders(engine, 1)[0]
        worker = tasker.Worker(engine, grace_seconds=0.3, **FAST)
        thread = run_in_thread(worker)
        assert started.wait(5)
        began = time.monotonic()
        worker.stop()
        thread.join(5)
        assert not thread.is_alive() and time.monotonic() - began < 2
        step = engine.get_task(task).step("validate_order")
        assert step.error["error_type"] == "WorkerShutdown" and "grace period 0.3 s" in step.error["message"]
        assert step.state in ("pending", "waiting_for_retry") and worker.stats.shutdown == 1
        release.set()  # the handler ends late; its report is dropped, nothing else happens
        time.sleep(0.1)
        assert engine.get_task(task).step("validate_order").attempts == 1


def test_a_step_given_up_at_a_forced_stop_is_not_claimed_again_by_the_workers_own_last_claim():
    # Two slots, one stuck step: the claimer waits for work for the free slot. A forced stop gives the step up at once
    # (WorkerShutdown, ready again at once); the worker's claim still waiting must not take it again (a second
    # attempt, given up in turn: a step with few attempts left would end in error for a shutdown).
    started, release = threading.Event(), threading.Event()
    claims = []
    second_claim = threading.Event()

    class Stuck(tasker.StepHandler):
        def process(self, context):
            started.set()
            release.wait(10)

    with real_clock_engine() as engine:
        engine.register_template(ORDER_TEMPLATE_TEXT)
        engine.register_handler("ValidateOrder", Stuck)
        task = engine.create_task("tiny", namespace="fulfillment").uuid
        call = engine._call

        def spy(name, payload):
            if name == "tasker_work_claim":
                claims.append(name)
                if len(claims) == 2:
                    second_claim.set()
            return call(name, payload)

        engine._call = spy
        worker = tasker.Worker(engine, concurrency=2, wait_seconds=1, stats_seconds=0)
        thread = run_in_thread(worker)
        assert started.wait(5) and second_claim.wait(5)
        worker.stop(force=True)
        thread.join(10)
        release.set()
        assert not thread.is_alive()
        step = engine.get_task(task).step("validate_order")
        assert step.error["error_type"] == "WorkerShutdown"
        assert (step.attempts, worker.stats.shutdown) == (1, 1)


def test_a_forced_stop_says_so_in_its_log_rather_than_blaming_the_grace_period(caplog):
    # A forced stop gives no grace period: "did not finish within the grace period (25 s)" would be wrong.
    Stuck, started, release = stuck_handler()

    with real_clock_engine() as engine:
        engine.register_template(ORDER_TEMPLATE_TEXT)
        engine.register_handler("ValidateOrder", Stuck)
        engine.create_task("tiny", namespace="fulfillment")
        worker = tasker.Worker(engine, **FAST)
        thread = run_in_thread(worker)
        assert started.wait(5)
        worker.stop(force=True)
        thread.join(10)
        release.set()
        assert not thread.is_alive() and worker.stats.shutdown == 1
    assert "1 steps still running at a forced stop: reported as WorkerShutdown" in caplog.text
    assert "within the grace period" not in caplog.text


def test_the_first_signal_after_a_burst_worker_stopped_by_itself_does_not_force_the_stop(caplog, monkeypatch):
    # Only a signal sent before makes the next one force the stop: the worker's own stop (no work left) is not one.
    caplog.set_level(logging.INFO, logger="tasker.worker")
    shut_down = tasker.Worker._shut_down

    def signalled_shut_down(worker, claimer):
        signal.raise_signal(signal.SIGTERM)  # on the main thread: its handler has run when this returns
        shut_down(worker, claimer)

    monkeypatch.setattr(tasker.Worker, "_shut_down", signalled_shut_down)
    with real_clock_engine() as engine:
        register_order_handlers(engine)
        tasker.Worker(engine, **FAST).run(burst=True, handle_signals=True)
    assert "no work left (burst)" in caplog.text
    assert "SIGTERM: no new work" in caplog.text and "SIGTERM again" not in caplog.text


def test_the_worker_logs_a_start_line_and_throughput_lines(caplog):
    caplog.set_level(logging.INFO, logger="tasker.worker")

    class Slowish(Returns):
        def process(self, context):
            time.sleep(0.05)
            return super().process(context)

    with real_clock_engine() as engine:
        register_order_handlers(engine, payment=Slowish)
        create_orders(engine, 10)
        tasker.Worker(engine, concurrency=2, wait_seconds=0.05, stats_seconds=0.1, worker_id="w-1").run(burst=True)
    lines = [r.getMessage() for r in caplog.records if r.name == "tasker.worker"]
    assert lines[0].startswith("worker w-1 started: concurrency 2, prefetch 2, handlers ProcessPayment, "
                               "ReserveInventory, "
                               "ShipOrder, ValidateOrder, namespaces all, memory store")
    assert any(re.search(r" steps/s\), 0 failed in all, \d+ running, \d+ claimed ahead$", line) for line in lines[1:-1])
    assert lines[-1].startswith("worker w-1 stopped: 40 steps in ") and "40 completed, 0 failed" in lines[-1]


def test_bad_options_are_refused_with_a_clear_error():
    with real_clock_engine() as engine:
        with pytest.raises(tasker.ValidationError, match="concurrency must be an integer of at least 1"):
            tasker.Worker(engine, concurrency=0)
        with pytest.raises(tasker.ValidationError, match="prefetch must be an integer of at least 0, not -1"):
            tasker.Worker(engine, prefetch=-1)
        with pytest.raises(tasker.ValidationError, match="prefetch must be an integer of at least 0, not True"):
            tasker.Worker(engine, prefetch=True)
        with pytest.raises(tasker.ValidationError, match="prefetch must be an integer of at least 0, not 1.5"):
            tasker.Worker(engine, prefetch=1.5)
        with pytest.raises(tasker.ValidationError, match="namespaces must be a non-empty list"):
            tasker.Worker(engine, namespaces="fulfillment")
        with pytest.raises(tasker.ValidationError, match="wait_seconds must be a number of seconds, more than 0 and "
                                                         "at most 60"):
            tasker.Worker(engine, wait_seconds=61)
        with pytest.raises(tasker.ValidationError, match="wait_seconds must be a number of seconds, more than 0"):
            tasker.Worker(engine, wait_seconds=0)
        with pytest.raises(tasker.ValidationError, match="stats_seconds"):
            tasker.Worker(engine, stats_seconds=-1)
        with pytest.raises(tasker.ValidationError, match="Worker needs a tasker.Engine"):
            tasker.Worker("postgres://")
        worker = tasker.Worker(engine, **FAST)
        with pytest.raises(tasker.ValidationError, match="the worker has no handlers"):
            worker.run(burst=True)


def test_an_async_handler_is_cancelled_at_its_deadline_and_the_attempt_fails_as_timeout():
    cancelled = threading.Event()

    class Hangs(tasker.StepHandler):
        async def process(self, context):
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.set()
                raise

    template = ORDER_TEMPLATE_TEXT.replace("name: tiny", "name: timed").replace(
        "handler: {callable: ValidateOrder}", "handler: {callable: ValidateOrder}\n    timeout_seconds: 1\n"
                                              "    retry: {retryable: true, max_attempts: 1}")
    with real_clock_engine() as engine:
        engine.register_template(template)
        engine.register_handler("ValidateOrder", Hangs)
        task = engine.create_task("timed", namespace="fulfillment").uuid
        began = time.monotonic()
        stats = tasker.Worker(engine, **FAST).run(burst=True)
        assert time.monotonic() - began < 5 and cancelled.is_set()
        step = engine.get_task(task).step("validate_order")
        assert step.state == "error" and step.error["error_type"] == "Timeout" and stats.failed + stats.stale == 1


def test_a_failing_claim_is_logged_and_retried_and_the_worker_keeps_going(caplog):
    with real_clock_engine() as engine:
        register_order_handlers(engine)
        tasks = create_orders(engine, 3)
        call, failures = engine._call, []

        def flaky(name, payload):  # the database is unreachable for the first claim
            if name == "tasker_work_claim" and not failures:
                failures.append(name)
                raise tasker.DatabaseError("connection refused")
            return call(name, payload)

        engine._call = flaky
        stats = tasker.Worker(engine, **FAST).run(burst=True)
        assert failures and stats.completed == 12
        assert all(engine.get_task(uuid).state == "complete" for uuid in tasks)
        assert "claiming work failed (DatabaseError: connection refused); trying again in 0.5 s" in caplog.text


def test_a_worker_whose_engine_is_closed_under_it_stops_with_one_error_and_run_raises_invalid_handle_error(caplog):
    # A closed engine does not come back: its claims are not retried (as those of a database that went away are).
    claimed = threading.Event()
    errors = []
    engine = real_clock_engine()
    register_order_handlers(engine)
    call = engine._call

    def spy(name, payload):
        if name == "tasker_work_claim":
            claimed.set()
        return call(name, payload)

    engine._call = spy
    worker = tasker.Worker(engine, **FAST)

    def run() -> None:
        try:
            worker.run()
        except tasker.InvalidHandleError as e:
            errors.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert claimed.wait(5)
        engine.close()
        thread.join(10)
        assert not thread.is_alive(), "the worker went on claiming on a closed engine"
    finally:
        worker.stop()
    assert len(errors) == 1 and "the engine was closed while worker" in str(errors[0])
    logged = [r.getMessage() for r in caplog.records if r.name == "tasker.worker" and r.levelno >= logging.ERROR]
    assert logged == [f"worker {worker.worker_id}: {errors[0]}"]


def test_a_claim_that_fails_otherwise_as_its_engine_closes_stops_the_worker_with_one_error(caplog):
    # A claim in flight when the engine closes may fail with another error (its wait cancelled, say): the engine is
    # closed all the same, so the worker stops at once rather than retry and log the closed engine a second time.
    engine = real_clock_engine()
    register_order_handlers(engine)
    call = engine._call

    def closing_claim(name, payload):
        if name == "tasker_work_claim" and not engine.closed:
            engine.close()
            raise tasker.TimeoutError("the operation timed out")
        return call(name, payload)  # a retry: InvalidHandleError

    engine._call = closing_claim
    worker = tasker.Worker(engine, **FAST)
    with pytest.raises(tasker.InvalidHandleError, match="the engine was closed while worker"):
        worker.run(handle_signals=False)
    logged = [r.getMessage() for r in caplog.records if r.name == "tasker.worker" and r.levelno >= logging.ERROR]
    assert len(logged) == 1 and "the engine was closed while worker" in logged[0]


def test_run_async_runs_async_handlers_on_the_callers_loop_and_sync_ones_on_threads():
    seen = {}

    class OnTheLoop(tasker.StepHandler):
        async def process(self, context):
            seen.setdefault("loops", set()).add(asyncio.get_running_loop())
            await asyncio.sleep(0.01)
            return {"async": True}

    class OnAThread(Returns):
        def process(self, context):
            seen.setdefault("threads", set()).add(threading.current_thread().name)
            return super().process(context)

    async def main():
        with real_clock_engine() as engine:
            register_order_handlers(engine, payment=OnTheLoop)
            engine.register_handler("ValidateOrder", OnAThread)
            tasks = create_orders(engine, 5)
            stats = await tasker.Worker(engine, **FAST).run_async(burst=True)
            assert stats.completed == 20
            assert all(engine.get_task(u).step("process_payment").result == {"async": True} for u in tasks)
            return asyncio.get_running_loop()

    loop = asyncio.run(main())
    assert seen["loops"] == {loop}
    assert all(name.startswith("tasker-worker-step-") for name in seen["threads"])


def test_cancelling_run_async_stops_the_worker_gracefully():
    started = threading.Event()

    class Slow(tasker.StepHandler):
        async def process(self, context):
            started.set()
            await asyncio.sleep(0.3)
            return {"finished": True}

    async def main():
        with real_clock_engine() as engine:
            register_order_handlers(engine)
            engine.register_handler("ValidateOrder", Slow)
            task = create_orders(engine, 1)[0]
            worker = tasker.Worker(engine, **FAST)
            running = asyncio.ensure_future(worker.run_async())
            while not started.is_set():
                await asyncio.sleep(0.01)
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running
            assert engine.get_task(task).step("validate_order").result == {"finished": True}
            assert worker.stats.completed == 1 and worker.stats.shutdown == 0

    asyncio.run(main())


def test_under_run_async_an_async_step_past_the_grace_period_is_cancelled_and_reported_as_worker_shutdown():
    started, cancelled = threading.Event(), threading.Event()

    class Stuck(tasker.StepHandler):
        async def process(self, context):
            started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.set()
                raise

    async def main():
        with real_clock_engine() as engine:
            register_order_handlers(engine)
            engine.register_handler("ValidateOrder", Stuck)
            task = create_orders(engine, 1)[0]
            worker = tasker.Worker(engine, grace_seconds=0.2, **FAST)
            running = asyncio.ensure_future(worker.run_async())
            while not started.is_set():
                await asyncio.sleep(0.01)
            worker.stop()
            stats = await asyncio.wait_for(running, 5)
            await asyncio.sleep(0.05)  # the cancelled coroutine unwinds on this loop
            assert cancelled.is_set() and stats.shutdown == 1
            assert engine.get_task(task).step("validate_order").error["error_type"] == "WorkerShutdown"

    asyncio.run(main())


def test_the_defaults_are_those_of_the_ruby_and_node_workers():
    with real_clock_engine() as engine:
        worker = tasker.Worker(engine)
        assert (worker.concurrency, worker.prefetch, worker.wait_seconds, worker.grace_seconds,
                worker.stats_seconds) == (8, 8, 2, 25, 60)
        assert (tasker.Worker(engine, concurrency=3).prefetch, tasker.Worker(engine, prefetch=0).prefetch) == (3, 0)


def test_the_command_s_options_reach_the_worker_it_builds_from_an_engine():
    import argparse

    from tasker._cli import _worker_for
    with real_clock_engine() as engine:
        args = argparse.Namespace(factory="app:make_engine", concurrency=3, prefetch=5, namespaces=["fulfillment"],
                                  grace=4.0)
        worker, _ = _worker_for(engine, args)
        assert (worker.concurrency, worker.prefetch, worker.namespaces, worker.grace_seconds) == (
            3, 5, ["fulfillment"], 4.0)


def test_handle_signals_off_the_main_thread_is_refused_with_a_clear_error():
    with real_clock_engine() as engine:
        errors = []

        def run() -> None:
            try:
                tasker.Worker(engine, **FAST).run(burst=True, handle_signals=True)
            except tasker.ValidationError as e:
                errors.append(str(e))

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(10)
        assert errors and "main thread only" in errors[0]


def test_heartbeats_come_every_third_of_the_whole_lease_at_least_1_s_apart_at_most_half_a_lease():
    from tasker.worker import _interval
    assert [_interval(lease) for lease in (30, 3, 2, 1)] == [10, 1, 1, 0.5]


def test_claims_in_hand_never_exceed_the_claim_limit_whatever_concurrency_and_prefetch_come_to():
    from tasker.worker import MAX_CLAIM_STEPS
    with real_clock_engine() as engine:
        worker = tasker.Worker(engine, concurrency=6000, prefetch=6000)
        assert worker._capacity() == 6000  # no step ran yet: no prefetch
        worker._note_run(("tasker_step_complete", {"handler": {"started_at": 10.0, "finished_at": 10.001}}))
        assert worker._capacity() == MAX_CLAIM_STEPS == 10_000
