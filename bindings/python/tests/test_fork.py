"""Processes and fork: libtasker's runtime does not survive fork, so engines belong to the process that opened them.
The multi-process cases run in fresh interpreters so that a fork never copies this test process's engines."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ORDER_TEMPLATE

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
TESTS = Path(__file__).parent


def run_script(script, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", script, *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=60)


def in_child(fn):
    """Runs fn() in a forked child of this process and returns what it wrote (its exception, or 'no error')."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        try:
            fn()
            os.write(write, b"no error")
        except BaseException as e:  # noqa: BLE001
            os.write(write, f"{type(e).__name__}: {e}".encode()[:500])
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        return pipe.read()


def test_using_an_engine_in_a_forked_child_raises_a_clear_error(engine):
    message = in_child(engine.list_tasks)
    assert message.startswith(f"TaskerError: this engine was opened in process {os.getpid()} and cannot be used "
                              "after fork; open a new Engine in each worker process")


def test_using_a_subscription_in_a_forked_child_raises_a_clear_error(engine):
    with engine.subscribe("*") as events:
        message = in_child(events.pull)
    assert message.startswith(f"TaskerError: this subscription was opened in process {os.getpid()}")


def test_a_forked_child_never_calls_the_library_even_when_its_finalizers_run():
    """The child drops the parent's engine and subscription and exits normally (garbage collection and atexit run
    their finalizers); it must not free them through the library, whose runtime it does not have."""
    script = (
        "import gc, os, sys, tasker, tasker._ffi as ffi\n"
        "engine = tasker.Engine()\n"
        "events = engine.subscribe('*')\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    calls = []\n"
        "    class Recorder:\n"
        "        def __getattr__(self, name):\n"
        "            calls.append(name)\n"
        "            return lambda *args: 0\n"
        "    ffi._loaded = Recorder()\n"
        "    import atexit\n"
        "    atexit.register(lambda: print('native calls in child:', calls, flush=True))\n"
        "    del engine, events\n"
        "    gc.collect()\n"
        "    sys.exit(0)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "assert engine.register_template(sys.argv[1])['name'] == 'order_fulfillment'\n"
        "engine.close()\n"
        "print('child exit', os.waitstatus_to_exitcode(status))\n")
    run = run_script(script, ORDER_TEMPLATE)
    assert run.stdout.splitlines() == ["native calls in child: []", "child exit 0"], run.stderr


def test_a_forked_child_may_open_its_own_engine_while_the_parent_keeps_its_own():
    script = (
        "import os, sys, tasker\n"
        "with tasker.Engine() as parent:\n"
        "    parent.register_template(sys.argv[1])\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os._exit(0)\n"  # the child of a process whose runtime runs cannot use the library: only exec or exit
        "    os.waitpid(pid, 0)\n"
        "    print(len(parent.list_tasks()))\n")
    run = run_script(script, ORDER_TEMPLATE)
    assert run.stdout.strip() == "0", run.stderr


def test_a_parent_may_import_tasker_and_fork_workers_that_open_engines():
    """A Celery/Gunicorn master imports tasker and forks; each worker opens its own engine. The library is loaded
    lazily, so the parent's import does not start the runtime that fork would break."""
    script = (
        "import os, sys, tasker\n"
        "pids = []\n"
        "for _ in range(2):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        with tasker.Engine() as e:\n"
        "            e.register_template(sys.argv[1])\n"
        "            os._exit(0 if e.list_tasks() == [] else 3)\n"
        "    pids.append(pid)\n"
        "codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]\n"
        "print(codes)\n")
    run = run_script(script, ORDER_TEMPLATE)
    assert run.stdout.strip() == "[0, 0]", run.stderr


def test_the_celery_adapter_opens_a_new_engine_after_fork():
    pytest.importorskip("celery")
    script = (
        "import os, sys, tasker, tasker.celery\n"
        "from celery import Celery\n"
        "app = Celery('fork', broker='memory://')\n"
        "opened = []\n"
        "def factory():\n"
        "    opened.append(os.getpid())\n"
        "    return tasker.Engine()\n"
        "handle = tasker.celery.register(app, factory)\n"
        "def pid_of_engine():\n"
        "    return handle.tasker_engine()._pid\n"
        "pid = os.fork()\n"  # a prefork master forks before any engine exists
        "if pid == 0:\n"
        "    first, again = pid_of_engine(), pid_of_engine()\n"
        "    os._exit(0 if first == again == os.getpid() and opened == [os.getpid()] else 5)\n"
        "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n")
    run = run_script(script)
    assert run.stdout.strip() == "0", run.stderr
