"""`engine.handle` on PostgreSQL through the Python binding of a given checkout: µs per step of bench_abi's 8-step
no-op template at concurrency 8, the median of 3 runs of TASKS tasks after a warm-up.

    TASKER_TEST_DATABASE_URL=... python3 bench/python/handle_postgres.py <checkout> <schema> [tasks]

The checkout's own binding and library (<checkout>/artifacts/lib/linux-x64/libtasker.so) are used, so two commits
can be compared round by round on one database, each in a schema of its own (their schema versions may differ).
"""
import os
import sys
import time

tree, schema = sys.argv[1], sys.argv[2]
tasks = int(sys.argv[3]) if len(sys.argv) > 3 else 100
sys.path.insert(0, os.path.join(tree, "bindings", "python", "src"))
os.environ["TASKER_LIBRARY_PATH"] = os.path.join(tree, "artifacts", "lib", "linux-x64", "libtasker.so")
import tasker  # noqa: E402  (the checkout's binding, found through the path set above)

STEPS = 8
TEMPLATE = "name: noop\nnamespace_name: bench\nversion: 1.0.0\nsteps:\n" + "".join(
    f"  - name: s{i}\n    handler: {{ callable: Noop }}\n" + (f"    dependencies: [s{i % 3}]\n" if i >= 3 else "")
    for i in range(STEPS))


class Noop(tasker.StepHandler):
    def process(self, context):
        return None


def per_step(engine, n):
    start = time.perf_counter()
    for _ in range(n):
        engine.handle(engine.create_task("noop", namespace="bench").uuid)
    return (time.perf_counter() - start) * 1e6 / (n * STEPS)


engine = tasker.Engine(database_url=os.environ["TASKER_TEST_DATABASE_URL"], schema=schema, concurrency=8)
engine.register_template(TEMPLATE)
engine.register_handler("Noop", Noop)
per_step(engine, max(tasks // 5, 10))
print(f"{sorted(per_step(engine, tasks) for _ in range(3))[1]:.0f}")
engine.close()
