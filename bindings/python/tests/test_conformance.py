"""The shared, language-neutral fixtures in tests/conformance, run through the Python binding: every fixture with the
v2 runner of tests/conformance/README.md (claims by handler, report-and-claim, the binding's own report function),
then again through engine.handle and engine.handle_async. The engine's clock is manual: re-enqueue delays and slow
handlers are played by advancing it, never by sleeping."""
import asyncio
import json
import time
from collections import Counter
from datetime import datetime

import pytest

import tasker
from conftest import CONFORMANCE
from tasker import _runner, _step
from tasker._json import dumps

FIXTURES = sorted((CONFORMANCE / "fixtures").glob("*.json"))
CATALOG = json.loads((CONFORMANCE / "events.json").read_text())
MAX_STEPS = 1000
MAX_ROUNDS = 100


def behaviour(scripts, step, attempt):
    """A step's scripted behaviour for an attempt: one entry per attempt, the last one repeating; none: {"ok": true}."""
    script = scripts.get(step)
    if script is None:
        return {"return": {"ok": True}}
    return script[min(attempt, len(script)) - 1]


def nested(depth):
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


def run_protocol(fixture, engine):
    """The v2 runner: claim, then for each batch run each claim's script and report it, the last report of the batch
    claiming the next batch; follow re-enqueue delays on the manual clock; stop when only other workers' handlers
    could go on or the task is done. Returns the task, the delays, the last outcome and the claim calls."""
    template = engine.register_template((CONFORMANCE / "templates" / fixture["template"]).read_text())
    task = engine.create_task(template["name"], namespace=template["namespace"], context=fixture["context"]).uuid
    options = {"max_steps": MAX_STEPS}
    if "handlers_present" in fixture:
        options["handlers"] = fixture["handlers_present"]
    claim_request = dumps({"task_uuid": task, **options})

    def claim():
        answer = engine._call("tasker_steps_claim", claim_request)
        return answer["claims"], tasker.Outcome.from_json(answer["outcome"])

    delays, heartbeats_past_deadline, claim_calls = [], [], 1
    claims, outcome = claim()
    for _ in range(MAX_ROUNDS):
        if claims:
            answer = None
            for n, c in enumerate(claims, 1):
                script = behaviour(fixture["handlers"], c["step"]["name"], c["step"]["attempt"])
                ref = _step.claim_ref(c, None)
                if "advance_seconds" in script:
                    engine.advance_clock(script["advance_seconds"])
                if script.get("heartbeat"):
                    lease = engine._call("tasker_step_heartbeat", dumps({**ref, "lease_seconds": 3600}))
                    if c["deadline_at"] is not None and (datetime.fromisoformat(lease["lease_expires_at"])
                                                         > datetime.fromisoformat(c["deadline_at"])):
                        heartbeats_past_deadline.append(lease)
                if "fail" in script:
                    error = {"message": script["fail"]["message"], "error_type": "Scripted",
                             "permanent": script["fail"].get("permanent", False)}
                    if "retry_after_seconds" in script["fail"]:
                        error["retry_after_seconds"] = script["fail"]["retry_after_seconds"]
                    report = (_step.FAIL, {**ref, "error": error})
                else:
                    result = nested(script["return_nested"]) if "return_nested" in script else script["return"]
                    report = (_step.COMPLETE, {**ref, "result": result})
                try:
                    answer = _runner.send_report(engine._call, report, options if n == len(claims) else None)
                except tasker.StaleClaimError:
                    answer = None  # the attempt's deadline passed or the task timed out: the next claim sees it
            if answer is not None:
                claims, outcome = answer["claims"], tasker.Outcome.from_json(answer["outcome"])
                if claims or outcome.action != "execute":
                    continue
        elif outcome.action == "reenqueue" and outcome.waiting_for_handlers:
            break  # only workers with other handlers can go on
        elif outcome.action == "reenqueue":
            delays.append(outcome.delay_seconds)
            engine.advance_clock(outcome.delay_seconds)
        elif outcome.action != "execute":
            break
        claim_calls += 1
        claims, outcome = claim()
    assert heartbeats_past_deadline == [], "a heartbeat extended the lease past the deadline"
    return engine.get_task(task), delays, outcome, claim_calls


class Scripted(tasker.StepHandler):
    """The same scripts as a handler run by engine.handle / handle_async (one shared instance). Steps of one wave
    finish in template order, as the v2 runner reports them (a fixture such as fail_fast depends on it): a step
    returns only once no step listed before it is still in progress."""

    def __init__(self, engine, scripts, order):
        self.engine = engine
        self.scripts = scripts
        self.order = order
        self.heartbeats_past_deadline = []

    def process(self, context):
        try:
            return self.play(context)
        finally:
            self.wait_for_earlier_steps(context)

    def play(self, context):
        script = behaviour(self.scripts, context.step.name, context.step.attempt)
        if "advance_seconds" in script:
            self.engine.advance_clock(script["advance_seconds"])
        if script.get("heartbeat"):
            lease = context.heartbeat(3600)
            if context.deadline is not None and lease > context.deadline:
                self.heartbeats_past_deadline.append(lease)
        if "fail" in script:
            fail = script["fail"]
            if fail.get("permanent"):
                raise tasker.PermanentError(fail["message"])
            raise tasker.RetryableError(fail["message"], retry_after=fail.get("retry_after_seconds"))
        return nested(script["return_nested"]) if "return_nested" in script else script["return"]

    def wait_for_earlier_steps(self, context):
        mine = self.order[context.step.name]
        give_up = time.monotonic() + 10
        while time.monotonic() < give_up:
            steps = self.engine.get_task(context.task.uuid).steps
            if not any(s.state == "in_progress" and self.order[s.name] < mine for s in steps):
                return
            time.sleep(0.001)


def run_handle(fixture, engine, handle):
    template = engine.register_template((CONFORMANCE / "templates" / fixture["template"]).read_text())
    task = engine.create_task(template["name"], namespace=template["namespace"], context=fixture["context"])
    steps = engine.get_task(task.uuid).steps
    scripted = Scripted(engine, fixture["handlers"], {step.name: n for n, step in enumerate(steps)})
    every_handler = {step.raw["handler"] for step in steps}
    for handler_name in fixture.get("handlers_present", every_handler):
        engine.register_handler(handler_name, scripted)
    delays = []
    outcome = handle(task.uuid)
    for _ in range(MAX_ROUNDS):
        if outcome.action == "reenqueue" and not outcome.waiting_for_handlers:
            delays.append(outcome.delay_seconds)
            engine.advance_clock(outcome.delay_seconds)
        elif outcome.action != "execute":
            break
        outcome = handle(task.uuid)
    assert scripted.heartbeats_past_deadline == [], "a heartbeat extended the lease past the deadline"
    return engine.get_task(task.uuid), delays, outcome, None


def check_events(events):
    """Every event carries what tests/conformance/events.json lists for it; returns the task.*/step.* counts."""
    for event in events:
        entry = CATALOG["events"].get(event["name"])
        assert entry is not None, f"{event['name']} is not in the catalog"
        for field in CATALOG["common"] + entry["fields"]:
            assert event.get(field) is not None, f"{event['name']} has no {field}"
        for key in entry.get("data", []):
            assert (event.get("data") or {}).get(key) is not None, f"{event['name']} has no data.{key}"
        if event.get("error") is not None:
            for field in CATALOG["error_fields"]:
                assert event["error"].get(field) is not None, f"{event['name']} has no error.{field}"
    return dict(Counter(e["name"] for e in events if e["name"].startswith(("task.", "step."))))


def test_the_fixtures_are_there():
    assert len(FIXTURES) >= 21


@pytest.mark.parametrize("mode", ["protocol", "handle", "handle_async"])
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture(path, mode):
    fixture = json.loads(path.read_text())
    with tasker.Engine(**fixture["engine_config"]) as engine, engine.subscribe("*") as subscription:
        if mode == "protocol":
            task, delays, outcome, claim_calls = run_protocol(fixture, engine)
        elif mode == "handle":
            task, delays, outcome, claim_calls = run_handle(fixture, engine, engine.handle)
        else:
            task, delays, outcome, claim_calls = run_handle(
                fixture, engine, lambda uuid: asyncio.run(engine.handle_async(uuid)))
        events = list(subscription)
        assert subscription.dropped == 0
    expect = fixture["expect"]
    assert task.state == expect["task_state"]
    for name, want in expect["steps"].items():
        step = task.step(name)
        assert (name, step.state, step.attempts) == (name, want["state"], want["attempts"])
        if "result" in want:
            assert step.result == want["result"]
        if "error_type" in want:
            assert (name, (step.error or {}).get("error_type")) == (name, want["error_type"])
    assert delays == expect["reenqueue_delays"]
    if "waiting_for_handlers" in expect:
        assert outcome.waiting_for_handlers == expect["waiting_for_handlers"]
    if "claim_calls" in expect and claim_calls is not None:
        assert claim_calls == expect["claim_calls"]
    assert check_events(events) == expect["events"]


def test_the_catalog_covers_exactly_the_documented_events():
    documented = (CONFORMANCE.parent.parent / "docs" / "events.md").read_text()
    assert CATALOG["events"], "empty catalog"
    for name in CATALOG["events"]:
        assert f"| `{name}` |" in documented
