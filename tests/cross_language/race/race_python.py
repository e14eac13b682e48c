"""The Python side of the race: its worker (``python3 -m tasker worker race_python:make_engine``) and the
creation of the tasks (``python3 race_python.py create N``)."""
import os
import sys
from pathlib import Path

import tasker

HERE = Path(__file__).resolve().parent


class RaceStep(tasker.StepHandler):
    def process(self, context):
        return {"by": "python", "pid": os.getpid()}


def make_engine() -> tasker.Engine:
    engine = tasker.Engine(database_url=os.environ["DATABASE_URL"], schema=os.environ["TASKER_SCHEMA"])
    engine.register_template(HERE / "race.yaml")
    engine.register_handler("RaceStep", RaceStep)
    return engine


if __name__ == "__main__" and sys.argv[1:2] == ["create"]:
    with make_engine() as engine:
        for n in range(int(sys.argv[2])):
            print(engine.create_task("race", namespace="race", context={"n": n}).uuid)
