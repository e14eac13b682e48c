"""The typed views the engine's answers become: a created task, a step's context."""
import dataclasses
import json

import pytest

import tasker
from tasker.outcome import Task
from conftest import ORDER_CONTEXT, ORDER_TEMPLATE


def create_order(engine, **fields):
    engine.register_template(ORDER_TEMPLATE)
    return engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT, **fields)


def test_a_created_task_reads_as_the_same_task_get_task_returns(engine):
    created = create_order(engine, tags=["web"])
    fetched = engine.get_task(created.uuid)
    assert (created.uuid, created.created, created.namespace, created.name, created.version, created.state) == (
        fetched.uuid, True, "fulfillment", "order_fulfillment", "1.0.0", "pending")
    assert created.context == ORDER_CONTEXT
    assert [s.name for s in created.steps] == [s.name for s in fetched.steps]
    assert created.step("validate_order").state == "pending"
    assert created.raw["tags"] == ["web"]


def test_a_repeated_idempotent_create_says_it_created_nothing(engine):
    first = create_order(engine, idempotency_key="order-7")
    again = create_order(engine, idempotency_key="order-7")
    assert (again.uuid, first.created, again.created) == (first.uuid, True, False)


def test_a_create_answer_in_another_field_order_is_decoded_whole():
    task = {"state": "pending", "task_uuid": "01a233d6-1e3f-7afa-b6e2-fa581bc5ea77", "namespace": "n", "name": "t",
            "version": "1.0.0", "context": {}, "steps": []}
    view = Task.from_create_answer(json.dumps({"task": task, "created": False}).encode())
    assert (view.uuid, view.created, view.state) == (task["task_uuid"], False, "pending")


def test_a_task_view_cannot_be_changed(engine):
    task = create_order(engine)
    with pytest.raises(AttributeError):
        task.state = "complete"
    with pytest.raises(AttributeError):
        task.uuid = "another"


def test_a_step_context_has_every_field_of_its_types(engine):
    seen = []

    class Look(tasker.StepHandler):
        def process(self, context):
            seen.append(context)

    engine.register_template(
        "name: look\nnamespace_name: views\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: Look }\n")
    engine.register_handler("Look", Look)
    engine.handle(engine.create_task("look", namespace="views", context={"k": 1}).uuid)
    context = seen[0]
    for value, cls in ((context, tasker.StepContext), (context.task, tasker.TaskInfo), (context.step, tasker.StepInfo)):
        assert {f.name for f in dataclasses.fields(cls)} <= set(vars(value)), cls.__name__
    assert (context.task.context, context.step.name, context.step.attempt, context.attributes) == ({"k": 1}, "a", 1, {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.claim_token = "x"


def test_two_views_of_a_task_are_equal_when_the_engine_said_the_same(engine):
    task = create_order(engine)
    assert engine.get_task(task.uuid) == engine.get_task(task.uuid)
    assert engine.get_task(task.uuid) != task  # the created view says created=True; a fetched one says None
