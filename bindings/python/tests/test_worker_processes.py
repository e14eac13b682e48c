"""Worker processes (``python -m tasker worker worker_app:make_worker``) on a real PostgreSQL: several racing over
hundreds of tasks, one killed with SIGKILL mid-run, one stopped with SIGTERM while a step runs; and the command's
errors."""
import collections
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest

import tasker

from conftest import ORDER_CONTEXT, database_url

TESTS = Path(__file__).parent
STEPS = ["validate_order", "reserve_inventory", "process_payment", "ship_order"]


@pytest.fixture
def app(tmp_path, monkeypatch):
    """A fresh schema, the run log and the environment worker_app reads; yields an engine on that schema."""
    monkeypatch.setenv("TASKER_TEST_DATABASE_URL", database_url())
    monkeypatch.setenv("WORKER_SCHEMA", f"py_{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("WORKER_RUNS_LOG", str(tmp_path / "runs.log"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), str(TESTS.parent / "src"),
                                                      os.environ.get("PYTHONPATH", "")]))
    import worker_app
    engine = worker_app.make_engine()
    yield engine
    engine.close()
    while STARTED:  # a failed test leaves no worker behind
        worker = STARTED.pop()
        if worker.poll() is None:
            worker.kill()
            worker.communicate(timeout=10)


STARTED = []


def start_worker(*args, **env):
    worker = subprocess.Popen([sys.executable, "-m", "tasker", "worker", "worker_app:make_worker", *args],
                              env={**os.environ, **{k: str(v) for k, v in env.items()}}, cwd=TESTS,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    STARTED.append(worker)
    return worker


def create_orders(engine, n):
    return [engine.create_task("order_fulfillment", namespace="fulfillment", context=ORDER_CONTEXT).uuid
            for _ in range(n)]


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def runs(path):
    """The run log: [(pid, start|end, task, step, attempt)]."""
    if not os.path.exists(path):
        return []
    return [(int(p), what, task, step, int(attempt))
            for p, what, task, step, attempt in (line.split() for line in Path(path).read_text().splitlines())]


def stop(workers, timeout=30):
    for w in workers:
        w.send_signal(signal.SIGTERM)
    outputs = [w.communicate(timeout=timeout)[0] for w in workers]
    return [w.returncode for w in workers], outputs


def assert_each_attempt_ran_once_and_each_task_finished_once(engine, tasks, log):
    started = collections.Counter((task, step, attempt) for _, what, task, step, attempt in runs(log)
                                  if what == "start")
    assert max(started.values()) == 1, [k for k, n in started.items() if n > 1][:5]
    for uuid_ in tasks:
        task = engine.get_task(uuid_)
        assert task.state == "complete"
        for step in task.steps:  # every attempt the engine counted ran exactly once, and no other
            assert step.state == "complete"
            assert sorted(a for (t, s, a) in started if t == uuid_ and s == step.name) == \
                list(range(1, step.attempts + 1))
        task_level = [t for t in task.transitions if t["step_name"] is None]
        assert [t["to"] for t in task_level].count("complete") == 1  # finalized exactly once
        for name in [None, *STEPS]:  # each trail is contiguous: every transition starts where the last one ended
            trail = [t for t in task.transitions if t["step_name"] == name]
            assert trail[0]["from"] is None if name is None else trail[0]["from"] == "pending"
            assert all(a["to"] == b["from"] for a, b in zip(trail, trail[1:])), trail


def test_worker_processes_racing_over_hundreds_of_tasks_run_each_attempt_once_and_finish_each_task_once(app):
    tasks = create_orders(app, 200)
    workers = [start_worker(WORKER_CONCURRENCY=4) for _ in range(3)]
    wait_until(lambda: len(app.list_tasks(state="complete", limit=1000)) == len(tasks), 120, "every task complete")
    codes, outputs = stop(workers)
    assert codes == [0, 0, 0], outputs
    log = os.environ["WORKER_RUNS_LOG"]
    assert_each_attempt_ran_once_and_each_task_finished_once(app, tasks, log)
    assert len({pid for pid, *_ in runs(log)}) == 3  # all three took part
    assert sum(int(line.split(" completed,")[0].rsplit(": ", 1)[1]) for out in outputs
               for line in out.splitlines() if " stopped: " in line) == 4 * len(tasks)


def test_a_worker_killed_mid_run_loses_nothing_its_steps_run_again_after_their_lease(app):
    log = os.environ["WORKER_RUNS_LOG"]
    tasks = create_orders(app, 12)
    doomed = start_worker(WORKER_CONCURRENCY=4, WORKER_SLEEP=30, WORKER_LEASE=2)  # steps that never finish in time
    wait_until(lambda: len(runs(log)) >= 4, 60, "the first worker to start 4 steps")
    doomed.kill()  # SIGKILL: no shutdown, no report
    doomed.communicate(timeout=10)
    lost = {(task, step) for _, _, task, step, _ in runs(log)}
    assert len(lost) == 4
    survivor = start_worker(WORKER_CONCURRENCY=4, WORKER_LEASE=2)
    wait_until(lambda: len(app.list_tasks(state="complete", limit=1000)) == len(tasks), 60, "every task complete")
    codes, outputs = stop([survivor])
    assert codes == [0], outputs
    assert_each_attempt_ran_once_and_each_task_finished_once(app, tasks, log)
    for task, step in lost:  # attempt 1 died with the first worker; attempt 2 ran once its lease had expired
        assert app.get_task(task).step(step).attempts == 2
        assert [(pid, a) for pid, what, t, s, a in runs(log) if (t, s) == (task, step) and what == "end"] == \
            [(survivor.pid, 2)]
        claimed = {t["attempt"]: datetime.fromisoformat(t["at"]) for t in app.get_task(task).transitions
                   if t["step_name"] == step and t["to"] == "in_progress"}
        assert (claimed[2] - claimed[1]).total_seconds() >= 2  # not before the lease (2 s) had expired


def test_sigterm_while_a_step_runs_finishes_and_reports_it_then_exits_0(app):
    log = os.environ["WORKER_RUNS_LOG"]
    task = create_orders(app, 1)[0]
    worker = start_worker(WORKER_CONCURRENCY=2, WORKER_SLEEP=1.5, WORKER_GRACE=10)
    wait_until(lambda: len(runs(log)) == 1, 60, "the step to start")
    began = time.monotonic()
    codes, outputs = stop([worker])
    assert codes == [0], outputs
    assert time.monotonic() - began < 10
    assert [r[1] for r in runs(log)] == ["start", "end"]
    steps = app.get_task(task).steps
    assert steps[0].state == "complete" and steps[0].attempts == 1
    assert [s.state for s in steps[1:]] == ["pending"] * 3  # stopping: the next step was not claimed
    assert "SIGTERM: no new work; waiting up to 10 s for 1 running steps" in outputs[0]
    assert "1 completed, 0 failed, 0 reported as WorkerShutdown" in outputs[0]


def test_sigterm_past_the_grace_period_reports_the_running_step_as_worker_shutdown(app):
    log = os.environ["WORKER_RUNS_LOG"]
    task = create_orders(app, 1)[0]
    worker = start_worker(WORKER_CONCURRENCY=2, WORKER_SLEEP=30, WORKER_GRACE=0.5)
    wait_until(lambda: len(runs(log)) == 1, 60, "the step to start")
    began = time.monotonic()
    codes, outputs = stop([worker])
    assert codes == [0], outputs
    assert time.monotonic() - began < 5
    step = app.get_task(task).step("validate_order")
    assert step.error["error_type"] == "WorkerShutdown" and step.state in ("pending", "waiting_for_retry")


def test_with_an_async_handler_the_command_runs_the_worker_on_an_event_loop(app, monkeypatch):
    monkeypatch.setenv("WORKER_ASYNC", "1")
    tasks = create_orders(app, 20)
    worker = start_worker(WORKER_CONCURRENCY=4, WORKER_SLEEP=0.01)
    wait_until(lambda: len(app.list_tasks(state="complete", limit=1000)) == len(tasks), 60, "every task complete")
    codes, outputs = stop([worker])
    assert codes == [0], outputs
    assert ", async handlers on the event loop" in outputs[0] and "SIGTERM: no new work" in outputs[0]
    assert_each_attempt_ran_once_and_each_task_finished_once(app, tasks, os.environ["WORKER_RUNS_LOG"])
    assert all(app.get_task(u).step("ship_order").result["async"] for u in tasks)


def test_the_command_says_what_is_wrong_with_a_bad_factory(app):
    def run(*args):
        done = subprocess.run([sys.executable, "-m", "tasker", "worker", *args], env=os.environ, cwd=TESTS,
                              capture_output=True, text=True, timeout=60)
        return done.returncode, done.stderr

    assert run("worker_app") == (2, "python -m tasker worker: FACTORY must be module:function "
                                    "(e.g. myapp.workers:make_engine), not 'worker_app'\n")
    code, err = run("no_such_app:make")
    assert code == 2 and err.startswith("python -m tasker worker: no module 'no_such_app' (from 'no_such_app:make'")
    assert run("worker_app:nothing") == (2, "python -m tasker worker: module 'worker_app' has no 'nothing'\n")
    assert run("worker_app:make_worker", "--concurrency", "3") == (
        2, "python -m tasker worker: worker_app:make_worker returned a Worker: set --concurrency where it is built, "
           "not on the command line\n")
    code, err = run("worker_app:make_engine", "--concurrency", "0")
    assert code == 2 and "argument -c/--concurrency: must be at least 1, not 0" in err
    code, err = run("worker_app:make_engine", "--prefetch", "-1")
    assert code == 2 and "argument --prefetch: must be at least 0, not -1" in err
    help_text = subprocess.run([sys.executable, "-m", "tasker", "worker", "--help"], env=os.environ, cwd=TESTS,
                               capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0 and "module:function returning a tasker.Worker or Engine" in help_text.stdout


def test_the_worker_example_runs_its_orders(app):
    examples = TESTS.parents[2] / "examples" / "python"
    schema = os.environ["WORKER_SCHEMA"]  # the app fixture's fresh schema: no other test's tasks
    env = {**os.environ, "DATABASE_URL": database_url(), "TASKER_SCHEMA": schema,
           "PYTHONPATH": os.pathsep.join([str(examples), str(TESTS.parent / "src")])}
    sys.path.insert(0, str(examples))
    try:
        import worker as example
    finally:
        sys.path.remove(str(examples))
    with tasker.Engine(database_url=database_url(), schema=schema) as engine:
        engine.register_template(example.TEMPLATE)
        orders = example.create_orders(engine, 3)
        worker = subprocess.Popen([sys.executable, "-m", "tasker", "worker", "worker:make_engine", "-c", "4"],
                                  env=env, cwd=examples, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        STARTED.append(worker)
        wait_until(lambda: all(engine.get_task(u).state == "complete" for u in orders), 60, "the example's orders")
        codes, outputs = stop([worker])
        assert codes == [0], outputs
        assert engine.get_task(orders[0]).step("process_payment").attempts == 2  # failed once, retried
        assert engine.get_task(orders[0]).step("ship_order").result["carrier"] == "tasker-post"
