"""Finding and loading libtasker: clear errors for a missing library and for one of another ABI. Each case runs in a
fresh interpreter (the binding loads the library once per process)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tasker

OPEN_ENGINE = ("import tasker\n"
               "try:\n"
               "    tasker.Engine()\n"
               "except tasker.TaskerError as e:\n"
               "    print(type(e).__name__, '|', e)\n")


def run_with_library(path):
    env = {**os.environ, "TASKER_LIBRARY_PATH": str(path)}
    return subprocess.run([sys.executable, "-c", OPEN_ENGINE], env=env, capture_output=True, text=True, timeout=60)


def stub_library(tmp_path, source):
    if not shutil.which("cc"):
        pytest.skip("no C compiler (cc) to build a stub library")
    c = tmp_path / "stub.c"
    c.write_text("#include <stdint.h>\n" + source)
    lib = tmp_path / "libstub.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(c)], check=True)
    return lib


def test_the_loaded_library_reports_its_version():
    assert tasker.version().count(".") == 2


def test_importing_tasker_does_not_load_the_library():
    run = subprocess.run([sys.executable, "-c", "import tasker, tasker._ffi as f; print(f._loaded is None)"],
                         env={**os.environ, "TASKER_LIBRARY_PATH": "/nonexistent/libtasker.so"},
                         capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "True", run.stderr


def test_a_missing_library_is_a_clear_error_when_the_first_engine_opens(tmp_path):
    run = run_with_library(tmp_path / "libtasker.so")
    assert run.stdout.startswith("TaskerError | cannot load libtasker from " + str(tmp_path / "libtasker.so")), run


def test_a_library_of_another_abi_version_is_refused(tmp_path):
    lib = stub_library(tmp_path, "uint32_t tasker_abi_version(void) { return 99; }\n")
    run = run_with_library(lib)
    v = tasker.__version__
    assert run.stdout.strip() == (
        f"AbiMismatchError | libtasker at {lib} has ABI version 99; this binding needs 2: TASKER_LIBRARY_PATH names "
        "a libtasker of another release: unset it to use the library inside the package (pip install "
        f"--force-reinstall tasker-native=={v}), or point it at the libtasker of release {v} (in this checkout: "
        "./build.sh native)"), run


def test_an_installed_package_whose_library_is_of_another_abi_names_the_package_not_a_build_step(tmp_path):
    # The package as installed (site-packages/tasker with its VERSION and _native/), away from the checkout.
    site = tmp_path / "site"
    shutil.copytree(Path(tasker.__file__).parent, site / "tasker",
                    ignore=shutil.ignore_patterns("__pycache__", "_native"))
    (site / "tasker" / "VERSION").write_text("7.8.9\n")
    (site / "tasker" / "_native").mkdir()
    stub = stub_library(tmp_path, "uint32_t tasker_abi_version(void) { return 99; }\n")
    shutil.copy(stub, site / "tasker" / "_native" / "libtasker.so")
    env = {k: v for k, v in os.environ.items() if k != "TASKER_LIBRARY_PATH"}
    run = subprocess.run([sys.executable, "-c", OPEN_ENGINE], env={**env, "PYTHONPATH": str(site)}, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == (
        f"AbiMismatchError | libtasker at {site / 'tasker' / '_native' / 'libtasker.so'} has ABI version 99; this "
        "binding needs 2: the library inside the package is from another release: pip install --force-reinstall "
        "tasker-native==7.8.9"), run


def test_a_library_without_a_function_the_binding_needs_is_refused(tmp_path):
    lib = stub_library(tmp_path, "uint32_t tasker_abi_version(void) { return 2; }\n")
    run = run_with_library(lib)
    assert run.stdout.startswith(f"AbiMismatchError | libtasker at {lib} has no tasker_"), run
    assert "it is not the release this binding needs; TASKER_LIBRARY_PATH names" in run.stdout, run


def test_a_library_that_is_not_libtasker_is_refused(tmp_path):
    lib = stub_library(tmp_path, "int something_else(void) { return 0; }\n")
    run = run_with_library(lib)
    assert run.stdout.startswith(f"AbiMismatchError | {lib} is not libtasker: it has no tasker_abi_version; "
                                 "TASKER_LIBRARY_PATH names"), run


def test_every_function_of_the_header_is_declared():
    """The parity script checks this too; here it fails with the missing names."""
    import re
    from tasker import _ffi
    header = (Path(__file__).resolve().parents[3] / "include" / "tasker.h").read_text()
    exported = set(re.findall(r"TASKER_API [^;]*?\b(tasker_\w+)\s*\(", header))
    assert exported - set(_ffi._SIGNATURES) == set()
    assert set(_ffi._SIGNATURES) - exported == set()


def _fresh_interpreter(script: str) -> str:
    """What `script` prints in a new Python process (nothing loaded yet), which must exit cleanly."""
    done = subprocess.run([sys.executable, "-c", script], env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


# Modules tasker loads only when first used, each with why (RSS it adds to a process, Python 3.11): every Celery
# prefork child and Gunicorn worker imports tasker, so what it imports up front is paid once per process.
_DEFERRED = {
    "asyncio": "handle_async, a Worker's run_async, an async def handler (with ssl and libcrypto, ~8 MB)",
    "ssl": "an ApiStepHandler's request (urllib)",
    "tasker.worker": "worker mode (tasker.Worker)",
    "concurrent.futures": "the step pool, when steps run on threads (with logging)",
    "logging": "the first failed step (its warning)",
    "traceback": "the first failed step (its backtrace)",
    "uuid": "nothing on this path (with platform)",
    "signal": "worker mode",
    "pathlib": "a template registered from a file, register_templates (with fnmatch, urllib.parse, ipaddress: 0.5 MB)",
    "tasker.api_handler": "tasker.ApiStepHandler",
    "tasker.subscription": "engine.subscribe, tasker.Subscription",
}


def test_importing_tasker_and_running_steps_inline_loads_none_of_the_deferred_modules():
    # One ready step at a time runs inline (no pool): importing tasker, opening an engine and handling a task loads
    # none of them, and each still works when first used (the worker, pool and failure tests).
    script = ("import sys, tasker\n"
              "class Ok(tasker.StepHandler):\n"
              "    def process(self, context): return {'ok': True}\n"
              "with tasker.Engine() as engine:\n"
              "    engine.register_template('{\"name\": \"one\", \"namespace_name\": \"light\", \"version\": \"1.0.0\", '\n"
              "        '\"steps\": [{\"name\": \"only\", \"handler\": {\"callable\": \"Ok\"}}]}')\n"
              "    engine.register_handler('Ok', Ok)\n"
              "    task = engine.create_task('one', namespace='light')\n"
              f"    print(engine.handle(task.uuid).action, ','.join(m for m in {sorted(_DEFERRED)!r} if m in sys.modules))\n")
    output = _fresh_interpreter(script)
    action, _, loaded = output.strip().partition(" ")
    assert action == "complete"
    assert loaded == "", {name: _DEFERRED[name] for name in loaded.split(",")}


def test_worker_mode_names_load_on_first_use():
    import tasker
    assert "Worker" in tasker.__all__ and "Worker" in dir(tasker)
    from tasker import Worker, WorkerStats
    assert tasker.Worker is Worker and tasker.worker.WorkerStats is WorkerStats
    from tasker import ApiStepHandler, Subscription
    assert {"ApiStepHandler", "Subscription"} <= set(tasker.__all__) and {"ApiStepHandler", "Subscription"} <= set(dir(tasker))
    assert tasker.api_handler.ApiStepHandler is ApiStepHandler and issubclass(ApiStepHandler, tasker.StepHandler)
    assert tasker.subscription.Subscription is Subscription and tasker.engine.Subscription is Subscription
    with pytest.raises(AttributeError, match="no attribute 'Wroker'"):
        tasker.Wroker  # noqa: B018


# What opening an engine allocates on libtasker's heap: about 0.2 MB. JsonSchema.Net's start (its dialects and 19
# meta-schemas, about 2.5 MB) waits for the first template with a schema: NativeAOT would run it at every start.
MAX_ALLOCATED_BY_OPEN = 2**20


def test_opening_an_engine_does_not_start_json_schema_and_the_first_schema_does():
    script = ("import json, tasker\n"
              "with tasker.Engine() as engine:\n"
              "    opened = engine.health()['memory']['total_allocated_bytes']\n"
              "    engine.register_template(json.dumps({'name': 's', 'namespace_name': 'n', 'version': '1.0.0',\n"
              "        'input_schema': {'type': 'object', 'required': ['id']},\n"
              "        'steps': [{'name': 'a', 'handler': {'callable': 'A'}}]}))\n"
              "    try:\n"
              "        engine.create_task('s', namespace='n', context={})\n"
              "        refused = ''\n"
              "    except tasker.ValidationError as e:\n"
              "        refused = str(e)\n"
              "    print(json.dumps([opened, refused]))\n")
    output = _fresh_interpreter(script)
    opened, refused = json.loads(output)
    assert opened < MAX_ALLOCATED_BY_OPEN, f"opening an engine allocated {opened} bytes"
    assert 'Required properties ["id"] are not present' in refused


def test_every_type_hint_of_the_public_api_resolves_without_loading_the_deferred_modules():
    # typing.get_type_hints (pydantic, FastAPI's dependency injection, IDEs) reads the hints of the public names;
    # the ones naming deferred modules (uuid, concurrent.futures, tasker.subscription) load them only then.
    script = ("import inspect, sys, typing, tasker\n"
              "loaded_before = [m for m in ('uuid', 'concurrent.futures', 'tasker.subscription') if m in sys.modules]\n"
              "unresolved = []\n"
              "for name in tasker.__all__:\n"
              "    obj = getattr(tasker, name)\n"
              "    members = vars(obj).values() if inspect.isclass(obj) else [obj]\n"
              "    for member in members:\n"
              "        member = member.fget if isinstance(member, property) else member\n"
              "        if not callable(member): continue\n"
              "        try: typing.get_type_hints(member)\n"
              "        except Exception as e: unresolved.append(f'{name}.{getattr(member, \"__name__\", member)}: {e!r}')\n"
              "print(repr((loaded_before, unresolved)))\n")
    output = _fresh_interpreter(script)
    assert output.strip() == "([], [])"
