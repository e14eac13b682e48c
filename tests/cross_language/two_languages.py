"""Two processes in two languages complete one task on one PostgreSQL database.

The Python process has only the Py* handlers, the Ruby process (ruby_side.rb) only the Rb* ones. Each drives the
task with `handle` (as its queue would), claiming only the steps it can run; a step whose handler it lacks stays
ready for the other. The audit trail must show every step run exactly once, by the process that has its handler.

    TASKER_TEST_DATABASE_URL=... TASKER_LIBRARY_PATH=... python3 two_languages.py
"""
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "bindings" / "python" / "src"))

import tasker  # noqa: E402


class PyStep(tasker.StepHandler):
    def process(self, context):
        return {"by": "python", "step": context.step.name, "saw": sorted(context.dependency_results)}


def main() -> int:
    url = os.environ.get("TASKER_TEST_DATABASE_URL")
    if not url:
        print("two_languages: TASKER_TEST_DATABASE_URL is not set", file=sys.stderr)
        return 2
    schema = "xlang_" + uuid.uuid4().hex[:12]
    with tasker.Engine(url, schema=schema, worker_id="python-side") as engine:
        engine.register_template(str(HERE / "two_languages.yaml"))
        for name in ("PyReceive", "PyReserve", "PyShip"):
            engine.register_handler(name, PyStep)
        task = engine.create_task("two_languages", namespace="cross_language", context={"order": 7})

        ruby_env = dict(os.environ, RUBYLIB=str(ROOT / "bindings" / "ruby" / "lib"))
        ruby = subprocess.Popen(["ruby", str(HERE / "ruby_side.rb"), url, schema, str(task.uuid)], env=ruby_env)
        deadline = time.monotonic() + 60
        while True:
            outcome = engine.handle(task.uuid)
            if outcome.action in ("complete", "error", "cancelled"):
                break
            if time.monotonic() > deadline:
                ruby.kill()
                print(f"two_languages: the task did not finish in 60 s (last outcome {outcome.action})", file=sys.stderr)
                return 1
            time.sleep(0.05)
        ruby_status = ruby.wait(timeout=60)

        view = engine.get_task(task.uuid)
        failures = []
        if ruby_status != 0:
            failures.append(f"the Ruby process exited with {ruby_status}")
        if view.state != "complete":
            failures.append(f"the task is {view.state}, not complete")
        for step in view.steps:
            want = "ruby" if step.raw["handler"].startswith("Rb") else "python"
            claims = [t for t in view.transitions if t.get("step_name") == step.name and t.get("to") == "in_progress"]
            if step.attempts != 1 or len(claims) != 1:
                failures.append(f"{step.name} ran {len(claims)} times ({step.attempts} attempts), not once")
            if (step.result or {}).get("by") != want:
                failures.append(f"{step.name} was run by {(step.result or {}).get('by')}, not {want}")
            if claims and claims[0].get("actor") != f"{want}-side":
                failures.append(f"{step.name} was claimed by {claims[0].get('actor')}, not {want}-side")
        for failure in failures:
            print("two_languages: " + failure, file=sys.stderr)
        if not failures:
            print(f"two_languages: ok: {len(view.steps)} steps, each run once by the process with its handler")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
