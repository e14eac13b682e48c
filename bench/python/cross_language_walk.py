"""What a work claim costs when the queue holds tasks of its templates whose ready steps are another language's
(issue 13: a DAG whose steps run in several languages).

    export PYTHONPATH=bindings/python/src TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so
    TASKER_BENCH_DATABASE_URL=$(scripts/pg-test-cluster.sh start) /usr/bin/python3 bench/python/cross_language_walk.py \\
        [--orders 2000] [--claims 3]

On a fresh schema: ``--orders`` orders of the polyglot order flow (examples/polyglot/order_flow.yaml), every Python
step before the Ruby payment done, so each order waits for Ruby. Then prints how long a claim of 8 steps takes for
Python's handlers (nothing is theirs: the find walks every waiting order and checks its steps) and for Ruby's (the
first orders are theirs). Run it on a throwaway cluster: like worker_cost.py, it leaves its schema behind.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import time
import uuid

import tasker

PYTHON_HANDLERS = ["ValidateOrder", "ReserveInventory", "ShipOrder"]
RUBY_HANDLERS = ["ProcessPayment"]
TEMPLATE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "polyglot" / "order_flow.yaml"


def claim(engine: tasker.Engine, handlers: list[str], max_steps: int) -> list[dict]:
    request = json.dumps({"handlers": handlers, "max_steps": max_steps}).encode()
    return engine._call("tasker_work_claim", request)["claims"]  # noqa: SLF001 - the bench times the bare call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--claims", type=int, default=3)
    args = parser.parse_args()
    url = os.environ["TASKER_BENCH_DATABASE_URL"]
    schema = f"xwalk_{uuid.uuid4().hex[:8]}"
    with tasker.Engine(database_url=url, schema=schema) as engine:
        engine.register_template(TEMPLATE.read_text())
        for i in range(args.orders):
            engine.create_task("order_flow", namespace="polyglot", context={"order_id": i})
        while claims := claim(engine, PYTHON_HANDLERS, 64):  # validate and reserve: Python's steps before Ruby's
            for c in claims:
                engine._call("tasker_step_complete", json.dumps({  # noqa: SLF001
                    "task_uuid": c["task"]["task_uuid"], "step_uuid": c["step"]["step_uuid"],
                    "claim_token": c["claim_token"], "result": {}}).encode())
        for handlers, who in ((PYTHON_HANDLERS, "Python"), (RUBY_HANDLERS, "Ruby")):
            for _ in range(args.claims):
                started = time.perf_counter()
                got = claim(engine, handlers, 8)
                print(f"{args.orders} orders waiting for Ruby: a claim of 8 for {who}'s handlers took "
                      f"{1000 * (time.perf_counter() - started):.1f} ms and claimed {len(got)}")


if __name__ == "__main__":
    main()
