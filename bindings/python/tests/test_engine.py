import asyncio
import threading

import pytest

import tasker
from conftest import ORDER_CONTEXT, ORDER_TEMPLATE, Returns, register_order_handlers


def create_order(engine, **fields):
    return engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT, **fields)


def test_handle_runs_every_step_and_passes_dependency_results(engine):
    register_order_handlers(engine)
    task = create_order(engine)
    outcome = engine.handle(task.uuid)
    assert (outcome.action, outcome.task_state) == ("complete", "complete")
    done = engine.get_task(task.uuid)
    assert [s.state for s in done.steps] == ["complete"] * 4
    assert done.step("ship_order").result == {
        "step": "ship_order", "saw": ["process_payment", "reserve_inventory", "validate_order"]}


def test_register_template_accepts_a_path_or_text(engine):
    assert engine.register_template(ORDER_TEMPLATE)["name"] == "order_fulfillment"
    text = ORDER_TEMPLATE.read_text().replace("version: 1.0.0", "version: 1.1.0")
    assert engine.register_template(text)["version"] == "1.1.0"


def test_async_handlers_are_awaited_by_handle_async(engine):
    class AsyncValidate(tasker.StepHandler):
        async def process(self, context):
            await asyncio.sleep(0)
            return {"async": True}

    register_order_handlers(engine)
    engine.register_handler("ValidateOrder", AsyncValidate)
    task = create_order(engine)
    outcome = asyncio.run(engine.handle_async(task.uuid))
    assert outcome.action == "complete"
    assert engine.get_task(task.uuid).step("validate_order").result == {"async": True}


def test_async_handlers_also_run_under_plain_handle(engine):
    class AsyncShip(tasker.StepHandler):
        async def process(self, context):
            return "shipped"

    register_order_handlers(engine)
    engine.register_handler("ShipOrder", AsyncShip)
    task = create_order(engine)
    assert engine.handle(task.uuid).action == "complete"
    assert engine.get_task(task.uuid).step("ship_order").result == "shipped"


def test_ready_steps_run_concurrently():
    both_running = threading.Barrier(2, timeout=10)

    class Meets(tasker.StepHandler):
        def process(self, context):
            both_running.wait()  # deadlocks (and times out) unless the two steps run at the same time
            return context.step.name

    yaml = ("name: pair\nnamespace_name: py\nversion: 1.0.0\nsteps:\n"
            "  - name: a\n    handler: { callable: Meets }\n  - name: b\n    handler: { callable: Meets }\n")
    with tasker.Engine(concurrency=2) as engine:
        engine.register_template(yaml)
        engine.register_handler("Meets", Meets)
        task = engine.create_task("pair", namespace="py")
        assert engine.handle(task.uuid).action == "complete"


def test_process_results_transforms_the_output(engine):
    class Doubles(Returns):
        def process(self, context):
            return 21

        def process_results(self, output):
            return output * 2

    register_order_handlers(engine)
    engine.register_handler("ShipOrder", Doubles)
    task = create_order(engine)
    engine.handle(task.uuid)
    assert engine.get_task(task.uuid).step("ship_order").result == 42


def test_retryable_error_with_retry_after_reenqueues_after_that_delay(engine):
    class Flaky(tasker.StepHandler):
        def process(self, context):
            if context.step.attempt == 1:
                raise tasker.RetryableError("gateway busy", retry_after=30)
            return "paid"

    register_order_handlers(engine, payment=Flaky)
    task = create_order(engine)
    outcome = engine.handle(task.uuid)
    assert (outcome.action, outcome.delay_seconds, outcome.task_state) == ("reenqueue", 30, "waiting_for_retry")
    payment = engine.get_task(task.uuid).step("process_payment")
    assert (payment.state, payment.error["message"], payment.error["error_type"]) == (
        "waiting_for_retry", "gateway busy", "RetryableError")
    engine.advance_clock(30)
    assert engine.handle(task.uuid).action == "complete"
    assert engine.get_task(task.uuid).step("process_payment").attempts == 2


def test_any_other_exception_is_a_retryable_failure_with_class_message_and_traceback(engine):
    class Broken(tasker.StepHandler):
        def process(self, context):
            raise KeyError("sku")

    register_order_handlers(engine, payment=Broken)
    task = create_order(engine)
    assert engine.handle(task.uuid).action == "reenqueue"
    error = engine.get_task(task.uuid).step("process_payment").error
    assert error["error_type"] == "KeyError" and not error["permanent"]
    assert any("raise KeyError" in line for line in error["backtrace"])


def test_permanent_error_fails_the_step_and_the_task_at_once(engine):
    class Declined(tasker.StepHandler):
        def process(self, context):
            raise tasker.PermanentError("card declined")

    register_order_handlers(engine, payment=Declined)
    task = create_order(engine)
    outcome = engine.handle(task.uuid)
    assert (outcome.action, outcome.task_state) == ("error", "error")
    payment = engine.get_task(task.uuid).step("process_payment")
    assert (payment.state, payment.attempts) == ("error", 1)


def test_a_step_whose_handler_is_not_registered_stays_ready_and_handle_names_the_handler_it_waits_for(engine):
    engine.register_template(ORDER_TEMPLATE)
    for name in ("ValidateOrder", "ReserveInventory", "ShipOrder"):  # no ProcessPayment in this worker
        engine.register_handler(name, Returns)
    task = create_order(engine)
    outcome = engine.handle(task.uuid)
    assert (outcome.action, outcome.task_state) == ("reenqueue", "in_progress")
    assert outcome.waiting_for_handlers == {"ProcessPayment": ["process_payment"]}
    assert outcome.requeue_after_seconds == outcome.delay_seconds == 5  # missing_handler_requeue_seconds
    done = engine.get_task(task.uuid)
    assert [(s.name, s.state, s.attempts) for s in done.steps] == [
        ("validate_order", "complete", 1), ("reserve_inventory", "complete", 1), ("process_payment", "pending", 0),
        ("ship_order", "pending", 0)]
    assert done.step("process_payment").error is None
    assert done.waiting_for_handlers == {"ProcessPayment": ["process_payment"]}


def test_a_result_that_is_not_json_serializable_is_a_step_failure(engine):
    class ReturnsASet(tasker.StepHandler):
        def process(self, context):
            return {1, 2}

    register_order_handlers(engine)
    engine.register_handler("ValidateOrder", ReturnsASet)
    task = create_order(engine)
    assert engine.handle(task.uuid).action == "reenqueue"
    error = engine.get_task(task.uuid).step("validate_order").error
    assert error["error_type"] == "TypeError" and "not JSON-serializable" in error["message"]


def test_an_exception_in_process_results_is_a_step_failure(engine):
    class BadResults(Returns):
        def process_results(self, output):
            raise ValueError("cannot summarize")

    register_order_handlers(engine)
    engine.register_handler("ValidateOrder", BadResults)
    task = create_order(engine)
    engine.handle(task.uuid)
    assert engine.get_task(task.uuid).step("validate_order").error["message"] == "cannot summarize"


def test_retry_task_reruns_failed_steps_and_keeps_completed_ones(engine):
    calls = []

    class FailsOnce(tasker.StepHandler):
        def process(self, context):
            calls.append(context.step.name)
            if len(calls) == 1:
                raise tasker.PermanentError("down")
            return "ok"

    register_order_handlers(engine, payment=FailsOnce)
    task = create_order(engine)
    assert engine.handle(task.uuid).action == "error"
    assert engine.retry_task(task.uuid, actor="ops", reason="gateway back").task_state == "pending"
    assert engine.handle(task.uuid).action == "complete"
    assert calls == ["process_payment", "process_payment"]
    assert engine.get_task(task.uuid).step("validate_order").attempts == 1


def test_cancel_and_resolve_step(engine):
    register_order_handlers(engine)
    task = create_order(engine)
    assert engine.cancel_task(task.uuid, actor="ops").action == "cancelled"
    with pytest.raises(tasker.InvalidStateError) as info:
        engine.retry_task(task.uuid)
    assert info.value.details == {"from": "cancelled", "to": "pending"}

    other = create_order(engine)
    outcome = engine.resolve_step(other.uuid, "validate_order", {"valid": "by hand"}, actor="ops")
    assert outcome.action == "execute"
    assert engine.get_task(other.uuid).step("validate_order").state == "resolved_manually"


def test_idempotency_key_returns_the_existing_task(engine):
    register_order_handlers(engine)
    first = create_order(engine, idempotency_key="order-7")
    second = create_order(engine, idempotency_key="order-7")
    assert (first.created, second.created, second.uuid) == (True, False, first.uuid)


def test_list_tasks_filters_by_state(engine):
    register_order_handlers(engine)
    done = create_order(engine)
    engine.handle(done.uuid)
    create_order(engine)
    assert [t["task_uuid"] for t in engine.list_tasks(state="complete")] == [done.uuid]
    assert len(engine.list_tasks(namespace="fulfillment")) == 2


def test_subscribe_yields_events_in_order(engine):
    register_order_handlers(engine)
    with engine.subscribe("step.completed") as events:
        engine.handle(create_order(engine).uuid)
        names = [e["step_name"] for e in events]
    assert names == ["validate_order", "reserve_inventory", "process_payment", "ship_order"]


def test_health_reports_counts(engine):
    register_order_handlers(engine)
    engine.handle(create_order(engine).uuid)
    health = engine.health()
    assert health["healthy"] and health["tasks"]["complete"] == 1


def test_health_reports_the_librarys_managed_heap(engine):
    register_order_handlers(engine)
    before = engine.health()["memory"]
    for _ in range(2000):  # about 15 KB each: several 8 MiB young-generation budgets
        engine.handle(create_order(engine).uuid)
    memory = engine.health()["memory"]
    assert set(memory) == {"heap_size_bytes", "committed_bytes", "fragmented_bytes", "total_allocated_bytes",
                           "gc_counts", "gc_pause_time_percent"}
    assert memory["total_allocated_bytes"] > before["total_allocated_bytes"]
    assert memory["gc_counts"]["gen0"] >= memory["gc_counts"]["gen1"] >= memory["gc_counts"]["gen2"]
    assert memory["gc_counts"]["gen0"] > before["gc_counts"]["gen0"]
    assert memory["committed_bytes"] >= memory["heap_size_bytes"] - memory["fragmented_bytes"] > 0
    assert 0 <= memory["gc_pause_time_percent"] <= 100


@pytest.mark.parametrize("template, error", [
    ("name: x\nnamespace_name: n\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: A }\n"
     "    dependencies: [a]\n", tasker.InvalidDagError),
    ("name: [unclosed\n", tasker.ValidationError),
    ("{\"name\": ", tasker.InvalidJsonError),
])
def test_bad_templates_raise_clear_errors(engine, template, error):
    with pytest.raises(error):
        engine.register_template(template)


def test_core_errors_map_to_exception_classes(engine):
    with pytest.raises(tasker.NotFoundError, match="template not found"):
        engine.create_task("missing", namespace="nowhere")
    with pytest.raises(tasker.NotFoundError):
        engine.get_task("01234567-89ab-7def-8123-456789abcdef")
    with pytest.raises(tasker.ValidationError, match="not a uuid"):
        engine.get_task("nope")
    engine.register_template(ORDER_TEMPLATE)
    with pytest.raises(tasker.ValidationError, match="input_schema"):
        engine.create_task("order_fulfillment", namespace="fulfillment", context={"order": {"id": "x"}})
    with pytest.raises(tasker.ValidationError, match="must be a tasker.StepHandler"):
        engine.register_handler("X", object)


def test_a_closed_engine_raises_instead_of_crashing():
    engine = tasker.Engine()
    engine.close()
    engine.close()  # idempotent
    with pytest.raises(tasker.InvalidHandleError):
        engine.list_tasks()


def test_multibyte_and_large_payloads_round_trip_exactly(engine):
    big = "ü✓🚚" * 250_000  # ~2.25 MB of UTF-8

    class Echo(tasker.StepHandler):
        def process(self, context):
            return context.task.context["payload"]

    yaml = "name: echo\nnamespace_name: py\nversion: 1.0.0\nsteps:\n  - name: e\n    handler: { callable: Echo }\n"
    engine.register_template(yaml)
    engine.register_handler("Echo", Echo)
    task = engine.create_task("echo", namespace="py", context={"payload": big})
    engine.handle(task.uuid)
    assert engine.get_task(task.uuid).step("e").result == big


def test_register_templates_registers_every_yaml_file_of_a_directory_in_name_order(engine, tmp_path):
    text = ORDER_TEMPLATE.read_text()
    (tmp_path / "b.yml").write_text(text.replace("version: 1.0.0", "version: 1.1.0"))
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "notes.txt").write_text("not a template")
    assert [t["version"] for t in engine.register_templates(tmp_path)] == ["1.0.0", "1.1.0"]
    register_order_handlers(engine)
    assert create_order(engine).version == "1.1.0"  # the newest version by default


def test_register_templates_of_a_directory_without_templates_is_not_found(engine, tmp_path):
    with pytest.raises(tasker.NotFoundError, match="no \\*.yml or \\*.yaml templates"):
        engine.register_templates(tmp_path)


def test_register_handlers_registers_classes_under_their_names(engine):
    class ValidateOrder(Returns):
        pass

    class ReserveInventory(Returns):
        pass

    engine.register_handlers(ValidateOrder, ReserveInventory)
    assert engine.handlers == {"ValidateOrder": ValidateOrder, "ReserveInventory": ReserveInventory}


def test_create_task_records_who_asked_and_why(engine):
    register_order_handlers(engine)
    task = create_order(engine, initiator="api", source_system="shop", reason="checkout", tags=["web", "eu"],
                        priority=5, correlation_id="req-1")
    raw = engine.get_task(task.uuid).raw
    assert {k: raw[k] for k in ("initiator", "source_system", "reason", "tags", "priority", "correlation_id")} == {
        "initiator": "api", "source_system": "shop", "reason": "checkout", "tags": ["web", "eu"], "priority": 5,
        "correlation_id": "req-1"}


def test_a_closed_subscription_raises_and_closing_twice_is_harmless(engine):
    events = engine.subscribe("task.*")
    events.close()
    events.close()
    assert events.closed
    with pytest.raises(tasker.InvalidHandleError, match="subscription is closed"):
        events.pull()


def test_a_full_subscription_counts_what_it_dropped(engine):
    register_order_handlers(engine)
    with engine.subscribe("step.completed", capacity=2) as events:
        engine.handle(create_order(engine).uuid)
        assert len(list(events)) == 2
        assert events.dropped == 2


def test_stale_work_lists_a_due_retry_nobody_is_driving(engine):
    class Flaky(Returns):
        def process(self, context):
            if context.step.attempt == 1:
                raise tasker.RetryableError("busy", retry_after=10)
            return "paid"

    register_order_handlers(engine, payment=Flaky)
    task = create_order(engine)
    engine.handle(task.uuid)
    assert engine.stale_work()["task_uuids"] == []
    engine.advance_clock(10)
    assert engine.stale_work()["task_uuids"] == [task.uuid]


def test_migrate_is_a_no_op_on_the_memory_store(engine):
    engine.migrate()
    assert engine.health()["store"] == "memory"
