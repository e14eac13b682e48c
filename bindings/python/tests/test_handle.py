"""engine.handle and engine.handle_async: waves of ready steps, their concurrency bound, and the outcome returned."""
import asyncio
import threading
import time

import pytest

import tasker
from conftest import ORDER_CONTEXT, Returns, register_order_handlers

FAN_OUT = ("name: fan\nnamespace_name: py\nversion: 1.0.0\nsteps:\n"
           + "".join(f"  - name: s{i}\n    handler: {{ callable: Work }}\n" for i in range(6))
           + "  - name: join\n    handler: { callable: Work }\n    dependencies: [s0, s1, s2, s3, s4, s5]\n")


class Gauge:
    """Counts how many handlers run at the same moment."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def enter(self):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self):
        with self.lock:
            self.now -= 1


def fan_out_engine(handler, concurrency):
    engine = tasker.Engine(concurrency=concurrency)
    engine.register_template(FAN_OUT)
    engine.register_handler("Work", handler)
    return engine, engine.create_task("fan", namespace="py")


def test_handle_runs_at_most_concurrency_steps_at_once():
    gauge = Gauge()
    three_meet = threading.Barrier(3, timeout=10)  # times out (failing the steps) unless 3 run at once

    class Work(tasker.StepHandler):
        def process(self, context):
            gauge.enter()
            if context.step.name != "join":
                three_meet.wait()
            time.sleep(0.01)
            gauge.leave()
            return context.step.name

    engine, task = fan_out_engine(Work, concurrency=3)
    with engine:
        assert engine.handle(task.uuid).action == "complete"
        assert [s.state for s in engine.get_task(task.uuid).steps] == ["complete"] * 7
    assert gauge.peak == 3


def threads_of(engine, handler_sleep):
    """The threads the fan-out's steps ran on, task after task (one set per task)."""
    seen = []

    class Work(tasker.StepHandler):
        def process(self, context):
            seen[-1].add(threading.get_ident())
            if handler_sleep:
                time.sleep(handler_sleep)

    engine.register_template(FAN_OUT)
    engine.register_handler("Work", Work)
    for _ in range(3):
        seen.append(set())
        assert engine.handle(engine.create_task("fan", namespace="py").uuid).action == "complete"
    return seen


def test_steps_of_a_handler_that_finishes_quickly_run_on_the_calling_thread(engine, monkeypatch):
    monkeypatch.setattr(tasker._quick, "QUICK_SECONDS", 0.002)  # "quick" whatever this machine's speed
    first, *later = threads_of(engine, handler_sleep=0)
    assert len(first) > 1  # never seen before: the wave went to the pool
    assert all(threads == {threading.get_ident()} for threads in later)


def test_a_quick_handler_that_blocks_once_sends_the_rest_of_its_wave_to_the_pool(engine, monkeypatch):
    monkeypatch.setattr(tasker._quick, "QUICK_SECONDS", 0.002)
    blocked = threading.Event()
    threads = set()

    class Work(tasker.StepHandler):
        def process(self, context):
            if blocking.is_set() and not blocked.is_set():
                blocked.set()
                time.sleep(0.05)  # past BLOCKED_SECONDS: a cache miss that became a network call
            threads.add(threading.get_ident())

    blocking = threading.Event()
    engine.register_template(FAN_OUT)
    engine.register_handler("Work", Work)
    for _ in range(2):
        engine.handle(engine.create_task("fan", namespace="py").uuid)
    threads.clear()
    blocking.set()
    assert engine.handle(engine.create_task("fan", namespace="py").uuid).action == "complete"
    assert len(threads) > 1  # after the blocked run, its siblings went to the pool


def test_quick_and_waiting_handlers_together_stay_within_concurrency():
    gauge = Gauge()

    class Work(tasker.StepHandler):
        def process(self, context):
            gauge.enter()
            if context.step.name in ("s0", "s1", "s2"):
                time.sleep(0.005)
            gauge.leave()

    engine, _ = fan_out_engine(Work, concurrency=3)
    with engine:
        for _ in range(4):
            assert engine.handle(engine.create_task("fan", namespace="py").uuid).action == "complete"
    assert gauge.peak <= 3


def test_steps_of_a_handler_that_waits_run_on_the_pool_every_time(engine):
    assert all(len(threads) > 1 for threads in threads_of(engine, handler_sleep=0.005))


def test_a_quick_handler_stays_quick_through_one_slow_run_and_goes_back_to_the_pool_after_three():
    from tasker._quick import QUICK_SECONDS, HandlerTimes

    times = HandlerTimes()
    assert not times.quick("Work")  # never seen
    for _ in range(5):
        times.record("Work", QUICK_SECONDS / 10)
    assert times.quick("Work")
    times.record("Work", QUICK_SECONDS * 2)  # stretched once by the scheduler
    assert times.quick("Work")
    times.record("Work", QUICK_SECONDS * 2)
    times.record("Work", QUICK_SECONDS * 2)
    assert not times.quick("Work")


def test_one_blocked_run_sends_a_quick_handler_to_the_pool_at_once():
    from tasker._quick import BLOCKED_SECONDS, QUICK_SECONDS, HandlerTimes

    times = HandlerTimes()
    for _ in range(5):
        times.record("Work", QUICK_SECONDS / 10)
    times.record("Work", BLOCKED_SECONDS * 2)
    assert not times.quick("Work")


def test_registering_a_handler_again_forgets_its_times(engine):
    engine.register_handler("Work", Returns)
    for _ in range(5):
        engine._handler_times.record("Work", 0)
    engine.register_handler("Work", Returns)
    assert not engine._handler_times.quick("Work")


def test_handle_async_awaits_async_handlers_concurrently_up_to_the_bound():
    gauge = Gauge()

    class Work(tasker.StepHandler):
        async def process(self, context):
            gauge.enter()
            await asyncio.sleep(0.05)
            gauge.leave()
            return context.step.name

    engine, task = fan_out_engine(Work, concurrency=4)
    with engine:
        assert asyncio.run(engine.handle_async(task.uuid)).action == "complete"
    assert gauge.peak == 4


def test_handle_async_keeps_the_event_loop_running_while_sync_handlers_block():
    class Blocks(tasker.StepHandler):
        def process(self, context):
            time.sleep(0.3)
            return "done"

    async def main(engine, task):
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        beat = asyncio.create_task(ticker())
        outcome = await engine.handle_async(task.uuid)
        beat.cancel()
        return outcome, ticks

    engine, task = fan_out_engine(Blocks, concurrency=7)
    with engine:
        outcome, ticks = asyncio.run(main(engine, task))
    assert outcome.action == "complete"
    assert ticks >= 20  # two waves of 0.3 s each: the loop ticked throughout


def test_handle_called_from_a_running_event_loop_still_runs_async_handlers(engine):
    class AsyncShip(tasker.StepHandler):
        async def process(self, context):
            await asyncio.sleep(0)
            return "shipped"

    register_order_handlers(engine)
    engine.register_handler("ShipOrder", AsyncShip)
    task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)

    async def inside_a_loop():
        return engine.handle(task.uuid)

    assert asyncio.run(inside_a_loop()).action == "complete"
    assert engine.get_task(task.uuid).step("ship_order").result == "shipped"


@pytest.mark.parametrize("run", ["handle", "handle_async"])
def test_the_outcome_that_finishes_a_task_says_it_finalized_it(engine, run):
    register_order_handlers(engine)
    task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
    outcome = engine.handle(task.uuid) if run == "handle" else asyncio.run(engine.handle_async(task.uuid))
    assert (outcome.action, outcome.finalized, outcome.task_state) == ("complete", True, "complete")
    again = engine.handle(task.uuid)
    assert (again.action, again.finalized) == ("complete", False)


def test_a_step_whose_task_is_cancelled_while_it_runs_is_dropped_and_handle_returns_cancelled(engine):
    class CancelsItsTask(tasker.StepHandler):
        def process(self, context):
            engine.cancel_task(context.task.uuid, actor="ops", reason="customer called")
            return "too late"

    register_order_handlers(engine)
    engine.register_handler("ValidateOrder", CancelsItsTask)
    task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
    assert engine.handle(task.uuid).action == "cancelled"
    assert engine.get_task(task.uuid).step("validate_order").result is None


def test_a_handler_instance_is_shared_by_every_step_it_handles(engine):
    class Counter(tasker.StepHandler):
        def __init__(self):
            self.calls = 0

        def process(self, context):
            self.calls += 1
            return self.calls

    counter = Counter()
    engine.register_template(FAN_OUT)
    engine.register_handler("Work", counter)
    task = engine.create_task("fan", namespace="py")
    assert engine.handle(task.uuid).action == "complete"
    assert counter.calls == 7


def test_a_handler_class_gets_a_new_instance_per_step(engine):
    class Fresh(tasker.StepHandler):
        def __init__(self):
            self.calls = 0

        def process(self, context):
            self.calls += 1
            return self.calls

    engine.register_template(FAN_OUT)
    engine.register_handler("Work", Fresh)
    task = engine.create_task("fan", namespace="py")
    engine.handle(task.uuid)
    assert {s.result for s in engine.get_task(task.uuid).steps} == {1}


def test_handle_accepts_a_uuid_object(engine):
    import uuid
    register_order_handlers(engine)
    task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
    assert engine.handle(uuid.UUID(task.uuid)).action == "complete"
    assert engine.get_task(uuid.UUID(task.uuid)).state == "complete"


def test_a_waiting_retry_is_reported_as_reenqueue_by_handle_async(engine):
    class Flaky(Returns):
        async def process(self, context):
            if context.step.attempt == 1:
                raise tasker.RetryableError("busy", retry_after=5)
            return "paid"

    register_order_handlers(engine, payment=Flaky)
    task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
    outcome = asyncio.run(engine.handle_async(task.uuid))
    assert (outcome.action, outcome.delay_seconds) == ("reenqueue", 5.0)
    engine.advance_clock(5)
    assert asyncio.run(engine.handle_async(task.uuid)).action == "complete"


def calls_of(engine):
    """The names of the native calls the engine makes from now on."""
    names = []
    call = engine._call

    def spy(name, payload):
        names.append(name)
        return call(name, payload)

    engine._call = spy
    return names


def test_a_wave_of_quick_steps_is_reported_in_one_call(engine, monkeypatch):
    monkeypatch.setattr(tasker._quick, "QUICK_SECONDS", 0.002)
    threads_of(engine, handler_sleep=0)  # the handler is known to be quick now
    names = calls_of(engine)
    task = engine.create_task("fan", namespace="py")
    assert engine.handle(task.uuid).action == "complete"
    assert names == ["tasker_steps_claim", "tasker_steps_report", "tasker_step_complete"]  # six at once, then join
    assert [s.state for s in engine.get_task(task.uuid).steps] == ["complete"] * 7


@pytest.mark.parametrize("bad, why", [("a\x00b", "NUL"), ("deep", "nest")])
def test_a_refused_result_in_a_wave_fails_only_its_own_step(engine, monkeypatch, bad, why):
    monkeypatch.setattr(tasker._quick, "QUICK_SECONDS", 0.002)
    threads_of(engine, handler_sleep=0)
    deep = {}
    for _ in range(80):
        deep = {"d": deep}

    class Work(tasker.StepHandler):
        def process(self, context):
            if context.step.name == "s3":
                return deep if bad == "deep" else bad
            return context.step.name

    engine.register_handler("Work", Work)
    engine._handler_times.record("Work", 0)  # registering again forgot it: quick from the first step
    names = calls_of(engine)
    task = engine.create_task("fan", namespace="py")
    engine.handle(task.uuid)
    assert "tasker_steps_report" in names
    steps = {s.name: s for s in engine.get_task(task.uuid).steps}
    assert steps["s3"].error["error_type"] == "InvalidResult" and why in steps["s3"].error["message"]
    assert [steps[f"s{i}"].result for i in (0, 1, 2, 4, 5)] == ["s0", "s1", "s2", "s4", "s5"]


@pytest.mark.parametrize("result", [None, {"ok": True, "name": "Zoë", "n": [1, 2.5]}, "text with \"quotes\""])
def test_a_completion_reaches_the_engine_as_its_json(engine, result):
    class Give(tasker.StepHandler):
        def process(self, context):
            context.set_attribute("order.id", "o-1")
            return result

    engine.register_template("name: one\nnamespace_name: py\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: Give }\n")
    engine.register_handler("Give", Give)
    task = engine.create_task("one", namespace="py", traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    assert engine.handle(task.uuid).action == "complete"
    assert engine.get_task(task.uuid).step("a").result == result


def test_a_completion_written_directly_is_the_same_json_as_json_writes_it():
    import json
    import time as clock

    from tasker import _step

    started = clock.time()
    body = {"task_uuid": "t", "step_uuid": "s", "claim_token": "c", "traceparent": "00-x",
            "handler": {"started_at": started, "finished_at": started + 0.5, "attributes": {"k": "v"}},
            "result": {"a": [1, "ü"]}, "claim_next": {"max_steps": 2, "handlers": ["A"]}}
    assert _step._completion(body) is not None  # written directly, not by json
    _, written = _step.encode((_step.COMPLETE, body))
    assert json.loads(written) == body
    _, written = _step.encode((_step.COMPLETE, {**body, "result": {1, 2}}))  # not JSON: the step's failure instead
    assert "result is a set" in json.loads(written)["error"]["message"]


def test_a_wall_clock_stepped_back_during_a_handler_does_not_lose_its_report(engine, monkeypatch):
    import tasker._step

    wall = iter(range(2_000_000_000, 0, -60))  # every reading a minute earlier than the last: NTP stepping back

    class Slow(tasker.StepHandler):
        def process(self, context):
            time.sleep(0.001)
            return "done"

    engine.register_template("name: one\nnamespace_name: py\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: Slow }\n")
    engine.register_handler("Slow", Slow)
    monkeypatch.setattr(tasker._step.time, "time", lambda: float(next(wall)))
    task = engine.create_task("one", namespace="py")
    assert engine.handle(task.uuid).action == "complete"
    assert engine.get_task(task.uuid).step("a").result == "done"


@pytest.mark.parametrize("value, why", [(float("nan"), "finite"), (float("inf"), "finite"), ("a\ud800", "surrogate")])
def test_an_attribute_that_cannot_be_sent_is_refused_when_set(engine, value, why):
    seen = []

    class Mark(tasker.StepHandler):
        def process(self, context):
            with pytest.raises(ValueError, match=why):
                context.set_attribute("k", value)
            seen.append(True)

    engine.register_template("name: one\nnamespace_name: py\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: Mark }\n")
    engine.register_handler("Mark", Mark)
    task = engine.create_task("one", namespace="py")
    assert engine.handle(task.uuid).action == "complete"
    assert seen == [True]


def test_a_wave_whose_task_was_cancelled_meanwhile_ends_with_the_cancelled_outcome(engine, monkeypatch):
    monkeypatch.setattr(tasker._quick, "QUICK_SECONDS", 0.002)
    threads_of(engine, handler_sleep=0)
    cancel = []

    class Work(tasker.StepHandler):
        def process(self, context):
            if cancel and context.step.name == "s0":
                engine.cancel_task(context.task.uuid, reason="operator")  # every report of this wave is now stale
            return context.step.name

    engine.register_handler("Work", Work)
    engine._handler_times.record("Work", 0)
    cancel.append(True)
    names = calls_of(engine)
    task = engine.create_task("fan", namespace="py")
    outcome = engine.handle(task.uuid)
    assert "tasker_steps_report" in names
    assert (outcome.action, outcome.task_state) == ("cancelled", "cancelled")
    assert all(s.state != "in_progress" for s in engine.get_task(task.uuid).steps)


CHAIN = ("name: chain\nnamespace_name: py\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: Look }\n"
         "  - name: b\n    handler: { callable: Look }\n    dependencies: [a]\n"
         "  - name: c\n    handler: { callable: Look }\n    dependencies: [b]\n")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_step_sees_its_task_also_those_claimed_by_a_report(mode):
    # b and c are claimed by the reports of a and b, whose answers are lean (the task's uuid alone): the loop gives
    # them the task's fields from the first claim.
    seen = []

    class Look(tasker.StepHandler):
        def process(self, context):
            t = context.task
            seen.append((context.step.name, t.uuid, t.namespace, t.name, t.version, dict(t.context), list(t.tags)))
            t.context["changed_by"] = context.step.name  # this step's copy: the next step does not see it

    with tasker.Engine(concurrency=1) as engine:
        engine.register_template(CHAIN)
        engine.register_handler("Look", Look)
        task = engine.create_task("chain", namespace="py", context={"k": 1}, tags=["t"])
        outcome = engine.handle(task.uuid) if mode == "sync" else asyncio.run(engine.handle_async(task.uuid))
        assert outcome.action == "complete"
    assert seen == [(name, task.uuid, "py", "chain", "1.0.0", {"k": 1}, ["t"]) for name in "abc"]
