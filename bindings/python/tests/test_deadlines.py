"""A step's timeout_seconds reaches its handler: context.deadline, context.heartbeat() (never past the deadline),
cancellation of async handlers at the deadline and context.cancelled for sync ones. The core enforces the deadline
whatever the handler does: its late report is refused and the attempt fails as Timeout."""
import asyncio
import time
from datetime import timedelta

import pytest

import tasker


def one_step(timeout_seconds, max_attempts=1):
    return ("name: timed\nnamespace_name: py\nversion: 1.0.0\nsteps:\n  - name: slow\n    handler: { callable: Slow }\n"
            f"    timeout_seconds: {timeout_seconds}\n    retry: {{ retryable: true, max_attempts: {max_attempts} }}\n")


def run(engine, handler, timeout_seconds, mode="handle"):
    engine.register_template(one_step(timeout_seconds))
    engine.register_handler("Slow", handler)
    task = engine.create_task("timed", namespace="py")
    outcome = engine.handle(task.uuid) if mode == "handle" else asyncio.run(engine.handle_async(task.uuid))
    return outcome, engine.get_task(task.uuid).step("slow")


def test_heartbeat_extends_the_lease_and_never_past_the_deadline():
    seen = {}

    class Beats(tasker.StepHandler):
        def process(self, context):
            claimed_at = context.deadline - timedelta(seconds=30)
            seen["first"] = context.heartbeat(20)
            seen["stored"] = engine.get_task(context.task.uuid).step("slow").raw["lease_expires_at"]
            seen["capped"] = context.heartbeat(3600)
            seen["claimed_at"], seen["deadline"] = claimed_at, context.deadline
            return "done"

    with tasker.Engine(clock="manual", lease_seconds=5) as engine:
        outcome, step = run(engine, Beats, timeout_seconds=30)
    assert (outcome.action, step.state) == ("complete", "complete")
    assert seen["first"] == seen["claimed_at"] + timedelta(seconds=20)  # past the 5 s lease it was claimed with
    assert seen["stored"].startswith(seen["first"].strftime("%Y-%m-%dT%H:%M:%S"))
    assert seen["capped"] == seen["deadline"]  # 3600 s asked, the deadline given


def test_heartbeat_after_the_deadline_raises_stale_claim_and_the_attempt_fails_as_timeout():
    raised = []

    class Overruns(tasker.StepHandler):
        def process(self, context):
            engine.advance_clock(31)
            try:
                context.heartbeat()
            except tasker.StaleClaimError as e:
                raised.append(e)
            return "too late"

    with tasker.Engine(clock="manual") as engine:
        outcome, step = run(engine, Overruns, timeout_seconds=30)
    assert len(raised) == 1
    assert (outcome.action, step.state, step.error["error_type"]) == ("error", "error", "Timeout")


def test_a_step_without_timeout_seconds_has_no_deadline(engine):
    deadlines = []

    class Records(tasker.StepHandler):
        def process(self, context):
            deadlines.append((context.deadline, context.cancelled))

    engine.register_template("name: t\nnamespace_name: py\nversion: 1.0.0\nsteps:\n  - name: a\n"
                             "    handler: { callable: Records }\n")
    engine.register_handler("Records", Records)
    engine.handle(engine.create_task("t", namespace="py").uuid)
    assert deadlines == [(None, False)]


def test_an_async_handler_that_runs_past_its_deadline_is_cancelled_and_the_step_fails_as_timeout():
    cancelled = []

    class Sleeps(tasker.StepHandler):
        async def process(self, context):
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append(time.monotonic())
                raise
            return "never"

    started = time.monotonic()
    with tasker.Engine() as engine:
        outcome, step = run(engine, Sleeps, timeout_seconds=1, mode="handle_async")
    assert len(cancelled) == 1 and 0.9 <= cancelled[0] - started < 3
    assert (outcome.action, step.state, step.attempts) == ("error", "error", 1)
    assert step.error["error_type"] == "Timeout" and step.result is None


def test_an_async_handler_under_plain_handle_is_cancelled_at_its_deadline_too():
    class Sleeps(tasker.StepHandler):
        async def process(self, context):
            await asyncio.sleep(30)

    started = time.monotonic()
    with tasker.Engine() as engine:
        outcome, step = run(engine, Sleeps, timeout_seconds=1)
    assert time.monotonic() - started < 3
    assert (outcome.action, step.error["error_type"]) == ("error", "Timeout")


def test_a_sync_handler_sees_cancelled_at_its_deadline_and_its_late_result_is_refused():
    polls = []

    class Polls(tasker.StepHandler):
        def process(self, context):
            assert not context.cancelled
            while not context.cancelled:
                polls.append(1)
                time.sleep(0.05)
            return "stopped"

    with tasker.Engine() as engine:
        outcome, step = run(engine, Polls, timeout_seconds=1)
    assert 10 <= len(polls) <= 40
    assert (outcome.action, step.state, step.error["error_type"], step.result) == ("error", "error", "Timeout", None)


@pytest.mark.parametrize("mode", ["handle", "handle_async"])
def test_a_timed_out_attempt_is_retried_when_attempts_are_left(mode):
    class SlowOnce(tasker.StepHandler):
        async def process(self, context):
            if context.step.attempt == 1:
                await asyncio.sleep(30)
            return "second time"

    with tasker.Engine(backoff={"base_seconds": 0, "jitter": 0}) as engine:
        engine.register_template(one_step(1, max_attempts=2))
        engine.register_handler("Slow", SlowOnce)
        task = engine.create_task("timed", namespace="py")
        handle = engine.handle if mode == "handle" else (lambda u: asyncio.run(engine.handle_async(u)))
        outcome = handle(task.uuid)
        while outcome.requeue_after_seconds is not None:
            time.sleep(outcome.requeue_after_seconds)
            outcome = handle(task.uuid)
        step = engine.get_task(task.uuid).step("slow")
    assert (outcome.action, step.attempts, step.result) == ("complete", 2, "second time")
