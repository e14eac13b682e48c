"""Bad input gives clear errors and never crashes the process or leaves a step hanging."""
import pytest

import tasker
from conftest import ORDER_CONTEXT, ORDER_TEMPLATE, Returns, register_order_handlers

ONE_STEP = "name: one\nnamespace_name: py\nversion: 1.0.0\nsteps:\n  - name: only\n    handler: { callable: Only }\n"


def run_one(engine, handler):
    engine.register_template(ONE_STEP)
    engine.register_handler("Only", handler)
    task = engine.create_task("one", namespace="py")
    return engine.handle(task.uuid), engine.get_task(task.uuid).step("only")


def returning(value):
    class Returns_(tasker.StepHandler):
        def process(self, context):
            return value
    return Returns_


def test_a_result_that_is_not_json_names_where_it_is_not(engine):
    outcome, step = run_one(engine, returning({"items": [1, {"tags": {"a", "b"}}]}))
    assert (outcome.action, step.state) == ("reenqueue", "waiting_for_retry")
    assert step.error["error_type"] == "TypeError"
    assert step.error["message"] == "result['items'][1]['tags'] is a set, which is not JSON-serializable"


@pytest.mark.parametrize("value, complaint", [
    (float("nan"), "is nan, which JSON cannot represent"),
    ({(1, 2): "tuple key"}, "has a tuple key ((1, 2)); JSON object keys are strings"),
    ("\udc80", "is text with a lone surrogate, which is not UTF-8"),
    (object(), "is a object, which is not JSON-serializable"),
])
def test_values_json_cannot_represent_are_step_failures(engine, value, complaint):
    _, step = run_one(engine, returning(value))
    assert step.error["error_type"] == "TypeError" and complaint in step.error["message"]


def test_a_result_that_contains_itself_is_a_step_failure(engine):
    cycle = []
    cycle.append(cycle)
    _, step = run_one(engine, returning(cycle))
    assert step.error["message"] == "result[0] contains itself (a cycle)"


def test_a_result_nested_70_levels_is_an_invalid_result_failure_and_handle_does_not_raise(engine):
    deep = "bottom"
    for _ in range(70):
        deep = [deep]
    outcome, step = run_one(engine, returning(deep))  # raises if anything escapes handle
    assert (outcome.action, step.state, step.attempts) == ("reenqueue", "waiting_for_retry", 1)
    assert step.error["error_type"] == "InvalidResult"
    assert step.error["message"].startswith("the engine refused the step's result: ")
    assert "64" in step.error["message"]  # the engine's own words: it nests deeper than 64 levels


def test_a_result_the_engine_refuses_for_a_nul_character_is_an_invalid_result_failure(engine):
    _, step = run_one(engine, returning({"name": "a\u0000b"}))
    assert step.error["error_type"] == "InvalidResult" and "NUL" in step.error["message"]


def test_a_long_message_and_backtrace_reach_the_engine_whole_and_are_cut_there(engine):
    def ping(n):  # two functions calling each other: Python does not fold their frames as it folds recursion
        if n == 0:
            raise ValueError("x" * 20_000)
        pong(n - 1)

    def pong(n):
        ping(n - 1)

    class Deep(tasker.StepHandler):
        def process(self, context):
            ping(300)

    _, step = run_one(engine, Deep)
    assert step.error["message"] == "x" * 8_192 + "..."  # the core's limit (8,192 characters), not the binding's
    frames = step.error["backtrace"]  # 303 entries sent: the core keeps the 100 outermost and 100 innermost
    assert len(frames) == 201 and "frames omitted" in frames[100]
    assert frames[0].startswith("Traceback") and frames[-1].startswith("ValueError: xxx")


def test_an_exception_with_a_broken_str_is_still_recorded(engine):
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no")

    class Raises(tasker.StepHandler):
        def process(self, context):
            raise Unprintable()

    _, step = run_one(engine, Raises)
    assert (step.error["error_type"], step.error["message"]) == ("Unprintable", "Unprintable")


def test_a_handler_that_cannot_be_constructed_is_a_step_failure(engine):
    class NeedsArguments(tasker.StepHandler):
        def __init__(self, gateway):
            self.gateway = gateway

    _, step = run_one(engine, NeedsArguments)
    assert step.error["error_type"] == "TypeError" and "gateway" in step.error["message"]


def test_an_exception_in_async_process_results_is_a_step_failure(engine):
    class AsyncResults(Returns):
        async def process_results(self, output):
            raise ValueError("cannot summarize")

    import asyncio
    engine.register_template(ONE_STEP)
    engine.register_handler("Only", AsyncResults)
    task = engine.create_task("one", namespace="py")
    assert asyncio.run(engine.handle_async(task.uuid)).action == "reenqueue"
    error = engine.get_task(task.uuid).step("only").error
    assert (error["error_type"], error["message"]) == ("ValueError", "cannot summarize")


def test_handle_without_any_registered_handler_claims_nothing_and_fails_nothing(engine):
    engine.register_template(ONE_STEP)
    task = engine.create_task("one", namespace="py")
    outcome = engine.handle(task.uuid)
    assert (outcome.action, outcome.waiting_for_handlers) == ("reenqueue", {"Only": ["only"]})
    step = engine.get_task(task.uuid).step("only")
    assert (step.state, step.attempts, step.error) == ("pending", 0, None)


def test_retryable_error_refuses_a_retry_after_the_engine_cannot_use():
    for bad in (-1, float("inf"), "soon", True):
        with pytest.raises(ValueError, match="retry_after must be a non-negative number of seconds"):
            tasker.RetryableError("busy", retry_after=bad)
    assert tasker.RetryableError("busy", retry_after=0).retry_after == 0


def test_a_context_that_is_not_json_names_where_it_is_not(engine):
    engine.register_template(ORDER_TEMPLATE)
    with pytest.raises(TypeError, match=r"context\['order'\]\['placed'\] is a datetime"):
        import datetime
        engine.create_task("order_fulfillment", namespace="fulfillment",
                           context={"order": {**ORDER_CONTEXT["order"], "placed": datetime.datetime.now()}})


def test_create_task_rejects_an_option_it_does_not_know(engine):
    engine.register_template(ORDER_TEMPLATE)
    with pytest.raises(TypeError, match="idempotency"):
        engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT, idempotency="x")


def test_an_unknown_template_name_or_version_is_not_found(engine):
    engine.register_template(ORDER_TEMPLATE)
    with pytest.raises(tasker.NotFoundError) as info:
        engine.create_task("order_fulfilment", namespace="fulfillment", context=ORDER_CONTEXT)
    assert "order_fulfilment" in str(info.value)
    with pytest.raises(tasker.NotFoundError):
        engine.create_task("order_fulfillment", namespace="fulfillment", version="9.9.9", context=ORDER_CONTEXT)


def test_a_template_path_that_does_not_exist_is_file_not_found(engine, tmp_path):
    with pytest.raises(FileNotFoundError, match="no template file"):
        engine.register_template(str(tmp_path / "missing.yaml"))
    with pytest.raises(FileNotFoundError):
        engine.register_template(tmp_path / "missing.yaml")


@pytest.mark.parametrize("template, error, words", [
    ("name: x\nnamespace_name: n\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: A }\n"
     "    dependencies: [b]\n  - name: b\n    handler: { callable: A }\n    dependencies: [a]\n",
     tasker.InvalidDagError, "a -> b -> a"),
    ("name: x\nnamespace_name: n\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: A }\n"
     "  - name: a\n    handler: { callable: A }\n", tasker.InvalidDagError, "duplicate"),
    ("name: x\nnamespace_name: n\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: A }\n"
     "    dependencies: [ghost]\n", tasker.InvalidDagError, "ghost"),
    ("name: x\nnamespace_name: n\nversion: one\nsteps:\n  - name: a\n    handler: { callable: A }\n",
     tasker.ValidationError, "version"),
    ("name: x\nnamespace_name: n\nversion: 1.0.0\nsteps: []\n", tasker.InvalidDagError, "no steps"),
    ("name: [unclosed\n  oops: 1\n", tasker.ValidationError, "line"),
])
def test_malformed_templates_raise_errors_that_name_the_problem(engine, template, error, words):
    with pytest.raises(error) as info:
        engine.register_template(template)
    assert words in str(info.value)


def test_a_handler_that_is_not_a_step_handler_is_refused(engine):
    with pytest.raises(tasker.ValidationError, match="must be a tasker.StepHandler"):
        engine.register_handler("X", lambda context: None)
    with pytest.raises(tasker.ValidationError, match="not a class"):
        engine.register_handlers(Returns())


def test_concurrency_must_be_positive():
    with pytest.raises(tasker.ValidationError, match="concurrency"):
        tasker.Engine(concurrency=0)
