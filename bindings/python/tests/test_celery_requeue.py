"""The Celery adapter's one rule: re-enqueue the task exactly when outcome.requeue_after_seconds is not None, with that
countdown (whatever the action says). Here with a stand-in app, so every outcome can be given; tests/test_celery.py
runs the adapter in a real Celery worker against Redis."""
import pytest

import tasker
import tasker.celery


class StandInApp:
    """What register() uses of a Celery app: ``app.task(...)`` decorating a bound task with ``apply_async``."""

    def task(self, name, bind, **options):
        def decorate(fn):
            return StandInTask(fn)
        return decorate


class StandInTask:
    def __init__(self, fn):
        self.fn = fn
        self.enqueued = []

    def __call__(self, *args):
        return self.fn(self, *args)

    def apply_async(self, args, countdown):
        self.enqueued.append((args, countdown))


class Answers:
    """An engine whose handle returns the outcome under test."""

    def __init__(self, outcome):
        self.outcome = outcome

    def handle(self, task_uuid, traceparent=None):
        return self.outcome


def outcome(action, requeue_after_seconds, delay_seconds=None, waiting=None):
    return tasker.Outcome("t-1", "in_progress", "processing", action, delay_seconds, 0, 0, False,
                          requeue_after_seconds, waiting or {})


@pytest.mark.parametrize("given, enqueued", [
    (outcome("execute", 0), [(("t-1", None), 0)]),
    (outcome("reenqueue", 2.5, delay_seconds=2.5), [(("t-1", None), 2.5)]),
    (outcome("reenqueue", 5, delay_seconds=5, waiting={"PyOnly": ["py_step"]}), [(("t-1", None), 5)]),
    (outcome("wait", None), []),
    (outcome("complete", None), []),
    (outcome("error", None), []),
    (outcome("reenqueue", None, delay_seconds=3), []),  # the action alone decides nothing
    (outcome("execute", None), []),
])
def test_the_adapter_requeues_exactly_when_requeue_after_seconds_is_not_none(given, enqueued):
    handle_task = tasker.celery.register(StandInApp(), lambda: Answers(given), fail_on_error=False)
    answer = handle_task("t-1")
    assert handle_task.enqueued == enqueued
    assert answer["requeue_after_seconds"] == given.requeue_after_seconds


def test_a_requeued_job_keeps_its_traceparent():
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    handle_task = tasker.celery.register(StandInApp(), lambda: Answers(outcome("execute", 0)))
    handle_task("t-1", traceparent)
    assert handle_task.enqueued == [(("t-1", traceparent), 0)]


class PyStep(tasker.StepHandler):
    def process(self, context):
        return {"ran": "in python"}


def test_a_worker_without_a_handler_requeues_the_task_for_another_worker():
    """With a real engine: the missing handler's step waits, and the job comes back after
    missing_handler_requeue_seconds (so the queue may hand it to a worker that has the handler)."""
    def open_engine():
        engine = tasker.Engine(missing_handler_requeue_seconds=7)
        engine.register_template("name: two\nnamespace_name: py\nversion: 1.0.0\nsteps:\n"
                                 "  - name: py_step\n    handler: { callable: PyStep }\n"
                                 "  - name: rb_step\n    handler: { callable: RbStep }\n    dependencies: [py_step]\n")
        engine.register_handler("PyStep", PyStep)
        return engine

    handle_task = tasker.celery.register(StandInApp(), open_engine)
    engine = handle_task.tasker_engine()
    task = engine.create_task("two", namespace="py")
    answer = handle_task(task.uuid)
    assert (answer["action"], answer["requeue_after_seconds"]) == ("reenqueue", 7)
    assert handle_task.enqueued == [((task.uuid, None), 7)]
    steps = engine.get_task(task.uuid)
    assert (steps.step("py_step").state, steps.step("rb_step").state) == ("complete", "pending")
    engine.close()


class Declined(tasker.StepHandler):
    def process(self, context):
        raise tasker.PermanentError("card declined\n" + "x" * 500)


def test_an_errored_workflow_raises_workflow_failed_error_with_each_failed_step_shortened():
    def open_engine():
        engine = tasker.Engine()
        engine.register_template("name: two\nnamespace_name: py\nversion: 1.0.0\nsteps:\n"
                                 "  - name: a\n    handler: { callable: Declined }\n"
                                 "  - name: b\n    handler: { callable: Declined }\n")
        engine.register_handler("Declined", Declined)
        return engine

    handle_task = tasker.celery.register(StandInApp(), open_engine)
    task = handle_task.tasker_engine().create_task("two", namespace="py")
    with pytest.raises(tasker.WorkflowFailedError) as failed:
        handle_task(task.uuid)
    error = failed.value
    assert not isinstance(error, tasker.TaskerError)  # not an engine error: no C error code
    assert error.task_uuid == task.uuid and [name for name, _, _ in error.failed_steps] == ["a", "b"]
    short = "card declined " + "x" * (tasker.errors.FAILED_STEP_MESSAGE_CHARS - len("card declined ") - 1) + "…"
    assert str(error) == (f"task {task.uuid} (py/two) ended in error: a: PermanentError: {short}; "
                          f"b: PermanentError: {short}")
    assert handle_task.enqueued == []
    handle_task.tasker_engine().close()


def test_retry_reenqueues_a_retried_task_at_once_and_a_finished_one_not_at_all():
    def open_engine():
        engine = tasker.Engine()
        engine.register_template("name: one\nnamespace_name: py\nversion: 1.0.0\nsteps:\n"
                                 "  - name: a\n    handler: { callable: Declined }\n")
        engine.register_handler("Declined", Declined)
        return engine

    handle_task = tasker.celery.register(StandInApp(), open_engine, fail_on_error=False)
    engine = handle_task.tasker_engine()
    task = engine.create_task("one", namespace="py")
    assert handle_task(task.uuid)["action"] == "error"
    outcome = tasker.celery.retry(handle_task, task.uuid, actor="alice", reason="card replaced")
    assert (outcome.action, outcome.requeue_after_seconds) == ("execute", 0)
    assert handle_task.enqueued == [((task.uuid, None), 0)]
    assert engine.get_task(task.uuid).transitions[-1]["actor"] == "alice"
    engine.close()
