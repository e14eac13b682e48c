"""Tasker Native for Python: an embeddable DAG workflow engine.

    import tasker

    class ValidateOrder(tasker.StepHandler):
        def process(self, context):
            return {"valid": True}

    with tasker.Engine() as engine:
        engine.register_template("order_fulfillment.yaml")
        engine.register_handler("ValidateOrder", ValidateOrder)
        task = engine.create_task("order_fulfillment", namespace="fulfillment", context={...})
        outcome = engine.handle(task.uuid)

Worker mode (no queue: ready steps of every task, from PostgreSQL): ``tasker.Worker(engine).run()``, or
``python -m tasker worker myapp.workers:make_worker``.
"""
from ._ffi import version
from ._version import __version__  # the release (VERSION); tasker.version() asks the loaded library
from .engine import Engine
from .errors import (AbiMismatchError, ConflictError, DatabaseError, InternalError, InvalidDagError,
                     InvalidHandleError, InvalidJsonError, InvalidStateError, InvalidUtf8Error, NotFoundError,
                     PermanentError, RetryableError, StaleClaimError, TaskerError, TimeoutError, ValidationError,
                     WorkflowFailedError)
from .handler import StepContext, StepHandler, StepInfo, TaskInfo
from .outcome import Outcome, Step, Task
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .api_handler import ApiStepHandler
    from .subscription import Subscription
    from .worker import Worker, WorkerStats

# Loaded on first use, each from its module: every Celery child or Gunicorn worker imports tasker, and what is not on
# the path of opening an engine and handling tasks need not cost each of them memory. Worker mode (with the logging,
# signal and concurrent.futures it imports), the Api step handler, subscriptions.
_LAZY = {"Worker": "worker", "WorkerStats": "worker", "worker": "worker", "ApiStepHandler": "api_handler",
         "api_handler": "api_handler", "Subscription": "subscription", "subscription": "subscription"}


def __getattr__(name: str):
    module_name = _LAZY.get(name)
    if module_name is not None:
        import importlib  # not `from . import worker`: that asks this __getattr__ for "worker" again

        module = importlib.import_module("." + module_name, __name__)
        return module if name == module_name else getattr(module, name)
    raise AttributeError(f"module 'tasker' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "Engine", "Subscription", "Worker", "WorkerStats", "StepHandler", "ApiStepHandler", "StepContext", "StepInfo",
    "TaskInfo", "Outcome", "Task", "Step",
    "RetryableError", "PermanentError", "TaskerError", "ValidationError", "InvalidHandleError", "InvalidUtf8Error",
    "InvalidJsonError", "NotFoundError", "ConflictError", "InvalidDagError", "InvalidStateError", "StaleClaimError",
    "DatabaseError", "TimeoutError", "InternalError", "AbiMismatchError", "WorkflowFailedError", "version",
]
