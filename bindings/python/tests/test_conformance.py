"""The shared, language-neutral fixtures in tests/conformance, run through the Python binding: every fixture, with
engine.handle and with engine.handle_async. The engine's clock is manual: re-enqueue delays are followed by advancing
it, never by sleeping."""
import asyncio
import json
from collections import Counter

import pytest

import tasker
from conftest import CONFORMANCE


class Scripted(tasker.StepHandler):
    """Plays each step's script (tests/conformance/README.md): one entry per attempt, the last one repeating; a step
    without a script returns {"ok": true}."""

    def __init__(self, scripts):
        self.scripts = scripts

    def process(self, context):
        script = self.scripts.get(context.step.name)
        if script is None:
            return {"ok": True}
        behaviour = script[min(context.step.attempt, len(script)) - 1]
        if "fail" in behaviour:
            fail = behaviour["fail"]
            if fail.get("permanent"):
                raise tasker.PermanentError(fail["message"])
            raise tasker.RetryableError(fail["message"], retry_after=fail.get("retry_after_seconds"))
        return behaviour["return"]


def run_fixture(fixture, engine, handle):
    template = engine.register_template((CONFORMANCE / "templates" / fixture["template"]).read_text())
    task = engine.create_task(template["name"], namespace=template["namespace"], context=fixture["context"])
    scripted = Scripted(fixture["handlers"])
    for handler_name in {step.raw["handler"] for step in engine.get_task(task.uuid).steps}:
        engine.register_handler(handler_name, scripted)
    delays = []
    outcome = handle(task.uuid)
    while outcome.action == "reenqueue":
        delays.append(outcome.delay_seconds)
        engine.advance_clock(outcome.delay_seconds)
        outcome = handle(task.uuid)
    return engine.get_task(task.uuid), delays


FIXTURES = sorted((CONFORMANCE / "fixtures").glob("*.json"))
CATALOG = json.loads((CONFORMANCE / "events.json").read_text())


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
    assert len(FIXTURES) >= 15


@pytest.mark.parametrize("mode", ["handle", "handle_async"])
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture(path, mode):
    fixture = json.loads(path.read_text())
    with tasker.Engine(**fixture["engine_config"]) as engine, engine.subscribe("*") as subscription:
        if mode == "handle":
            handle = engine.handle
        else:
            def handle(task_uuid):
                return asyncio.run(engine.handle_async(task_uuid))
        task, delays = run_fixture(fixture, engine, handle)
        events = list(subscription)
        assert subscription.dropped == 0
    expect = fixture["expect"]
    assert task.state == expect["task_state"]
    for name, want in expect["steps"].items():
        step = task.step(name)
        assert (name, step.state, step.attempts) == (name, want["state"], want["attempts"])
        if "result" in want:
            assert step.result == want["result"]
    assert delays == expect["reenqueue_delays"]
    assert check_events(events) == expect["events"]


def test_the_catalog_covers_exactly_the_documented_events():
    documented = (CONFORMANCE.parent.parent / "docs" / "events.md").read_text()
    assert CATALOG["events"], "empty catalog"
    for name in CATALOG["events"]:
        assert f"| `{name}` |" in documented
