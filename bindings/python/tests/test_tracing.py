"""Trace context through the binding: W3C traceparent on create_task and handle, handler span attributes. What the
exported spans look like is tests/test_telemetry.py's job (a real OTLP receiver); these are the API's rules."""
import pytest

import tasker
from conftest import ORDER_CONTEXT, register_order_handlers

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_task_created_with_a_traceparent_runs_to_completion_with_one_given_to_handle():
    with tasker.Engine() as engine:
        register_order_handlers(engine)
        task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT,
                                  traceparent=TRACEPARENT)
        assert engine.handle(task.uuid, traceparent=TRACEPARENT).action == "complete"


def test_a_malformed_traceparent_is_an_invalid_argument_and_creates_nothing():
    with tasker.Engine() as engine:
        register_order_handlers(engine)
        with pytest.raises(tasker.ValidationError, match="traceparent"):
            engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT,
                               traceparent="00-not-a-trace")
        assert engine.list_tasks() == []


def test_handle_refuses_a_malformed_traceparent_before_running_anything():
    with tasker.Engine() as engine:
        register_order_handlers(engine)
        task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
        with pytest.raises(tasker.ValidationError, match="traceparent"):
            engine.handle(task.uuid, traceparent="garbage")
        assert all(step.attempts == 0 for step in engine.get_task(task.uuid).steps)


def test_attributes_a_handler_sets_are_accepted_by_the_engine():
    seen = {}

    class Tagging(tasker.StepHandler):
        def process(self, context):
            context.set_attribute("order.id", "o-17")
            context.set_attribute("items", 3)
            context.set_attribute("express", True)
            context.set_attribute("weight", 1.5)
            seen.update(context.attributes)
            return {"ok": True}

    with tasker.Engine() as engine:
        register_order_handlers(engine)
        engine.register_handler("ShipOrder", Tagging())
        task = engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT)
        assert engine.handle(task.uuid).action == "complete"
    assert seen == {"order.id": "o-17", "items": 3, "express": True, "weight": 1.5}


@pytest.mark.parametrize("key, value, error", [
    ("", "x", ValueError), ("k" * 257, "x", ValueError), ("obj", {"a": 1}, TypeError), ("none", None, TypeError)])
def test_set_attribute_refuses_what_a_span_cannot_hold(key, value, error):
    context = tasker.StepContext.from_claim({
        "task": {"task_uuid": "t", "namespace": "n", "name": "x", "version": "1.0.0", "context": {}, "tags": []},
        "step": {"step_uuid": "s", "name": "a", "handler": "A", "attempt": 1, "max_attempts": 3},
        "claim_token": "c"})
    with pytest.raises(error):
        context.set_attribute(key, value)
    assert context.attributes == {}
