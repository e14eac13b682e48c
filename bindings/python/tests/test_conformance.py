"""The shared, language-neutral fixtures in tests/conformance, run through the Python binding."""
import json

import pytest

import tasker
from conftest import CONFORMANCE


def scripted(script):
    class Scripted(tasker.StepHandler):
        def process(self, context):
            if script is None:
                return {"ok": True}
            behaviour = script[min(context.step.attempt, len(script)) - 1]
            if "fail" in behaviour:
                fail = behaviour["fail"]
                if fail.get("permanent"):
                    raise tasker.PermanentError(fail["message"])
                raise tasker.RetryableError(fail["message"], retry_after=fail.get("retry_after_seconds"))
            return behaviour["return"]
    return Scripted


def run_fixture(fixture, engine):
    template = engine.register_template((CONFORMANCE / "templates" / fixture["template"]).read_text())
    handlers = fixture["handlers"]
    task = engine.create_task(template["name"], namespace=template["namespace"], context=fixture["context"])
    # Every step of these templates has its own handler name: map each to its script.
    for step in engine.get_task(task.uuid).steps:
        engine.register_handler(step.raw["handler"], scripted(handlers.get(step.name)))
    delays = []
    outcome = engine.handle(task.uuid)
    while outcome.action == "reenqueue":
        delays.append(outcome.delay_seconds)
        engine.advance_clock(outcome.delay_seconds)
        outcome = engine.handle(task.uuid)
    return engine.get_task(task.uuid), delays


@pytest.mark.parametrize("path", sorted((CONFORMANCE / "fixtures").glob("*.json")), ids=lambda p: p.stem)
def test_fixture(path):
    fixture = json.loads(path.read_text())
    with tasker.Engine(**fixture["engine_config"]) as engine:
        task, delays = run_fixture(fixture, engine)
    expect = fixture["expect"]
    assert task.state == expect["task_state"]
    for name, want in expect["steps"].items():
        step = task.step(name)
        assert (name, step.state, step.attempts) == (name, want["state"], want["attempts"])
        if "result" in want:
            assert step.result == want["result"]
    assert delays == expect["reenqueue_delays"]
