"""``python -m tasker worker module:factory``: starts a Worker, as ``celery -A app worker`` or ``rq worker`` would.

The factory (a function, called with no arguments, in this process) returns a ``tasker.Worker``, or a
``tasker.Engine`` with its templates and handlers registered (the command builds the Worker). The command owns what
the factory returns: it closes the engine when the worker has stopped. When a handler is ``async def``, the worker
runs with ``run_async`` on an event loop of its own: the async handlers share that loop.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import os
import sys
from typing import Any, Sequence

from .engine import Engine
from .worker import DEFAULT_CONCURRENCY, DEFAULT_GRACE_SECONDS, Worker

EXIT_USAGE = 2
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"


class UsageError(Exception):
    """A bad command line or factory path: printed as one line, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "worker":
        parser.print_help()
        return EXIT_USAGE
    logging.basicConfig(level=args.log_level.upper(), format=LOG_FORMAT)
    try:
        made = _call_factory(args.factory)
        worker, engine = _worker_for(made, args)
    except UsageError as e:
        print(f"python -m tasker worker: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if _has_async_handlers(engine):  # they share one event loop (their clients and pools with it)
            asyncio.run(worker.run_async())
        else:
            worker.run()
    finally:
        engine.close()
    return 0


def _has_async_handlers(engine: Engine) -> bool:
    return any(inspect.iscoroutinefunction(getattr(h, "process", None)) for h in engine.handlers.values())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tasker", description="Tasker Native for Python.")
    commands = parser.add_subparsers(dest="command", metavar="command")
    worker = commands.add_parser(
        "worker", help="run a worker: ready steps of its handlers, from every task (PostgreSQL is the queue)",
        description="Runs a tasker.Worker until SIGTERM or SIGINT (graceful: steps in flight get the grace period to "
                    "finish; a second signal stops at once). Steps still running then are reported as a retryable "
                    "WorkerShutdown failure.",
        epilog="FACTORY is module:function; the function returns a tasker.Worker, or a tasker.Engine with its "
               "templates and handlers registered. The current directory is on the import path. Example: "
               "python -m tasker worker myapp.workers:make_engine --concurrency 16")
    worker.add_argument("factory", metavar="FACTORY", help="module:function returning a tasker.Worker or Engine")
    worker.add_argument("-c", "--concurrency", type=_positive_int, default=None,
                        help=f"steps run at once (default {DEFAULT_CONCURRENCY})")
    worker.add_argument("--prefetch", type=_natural_int, default=None, metavar="N",
                        help="steps claimed ahead of free slots while steps are short (default: the concurrency; "
                             "0: none)")
    worker.add_argument("-n", "--namespace", action="append", dest="namespaces", metavar="NAMESPACE",
                        help="only tasks of this namespace (repeatable; default: all)")
    worker.add_argument("--grace", type=float, default=None, metavar="SECONDS",
                        help=f"how long steps in flight may finish after SIGTERM (default {DEFAULT_GRACE_SECONDS:g})")
    worker.add_argument("-l", "--log-level", default="info",
                        choices=["debug", "info", "warning", "error", "critical"], help="default info")
    return parser


def _positive_int(text: str) -> int:
    return _int_from(text, 1)


def _natural_int(text: str) -> int:
    return _int_from(text, 0)


def _int_from(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, not {value}")
    return value


def _call_factory(path: str) -> Any:
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise UsageError(f"FACTORY must be module:function (e.g. myapp.workers:make_engine), not {path!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` puts it there: the application's modules import
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name is not None and (module_name + ".").startswith(e.name + "."):  # the module or its package
            raise UsageError(f"no module {e.name!r} (from {path!r}; the import path is the current directory "
                             f"{os.getcwd()} and PYTHONPATH)") from None
        raise  # the module exists and one of its own imports failed: its traceback says which
    target = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise UsageError(f"module {module_name!r} has no {attribute!r}") from None
    if isinstance(target, (Engine, Worker)):
        return target
    if not callable(target):
        raise UsageError(f"{path} is a {type(target).__name__}: give a function returning a tasker.Worker or Engine")
    return target()


def _worker_for(made: Any, args: argparse.Namespace) -> tuple[Worker, Engine]:
    options = {"concurrency": args.concurrency, "prefetch": args.prefetch, "namespaces": args.namespaces,
               "grace_seconds": args.grace}
    given = {name: value for name, value in options.items() if value is not None}
    if isinstance(made, Worker):
        if given:
            flags = ", ".join("--" + {"namespaces": "namespace", "grace_seconds": "grace"}.get(n, n) for n in given)
            raise UsageError(
                f"{args.factory} returned a Worker: set {flags} where it is built, not on the command line")
        return made, made.engine
    if isinstance(made, Engine):
        return Worker(made, **given), made
    raise UsageError(f"{args.factory} returned {type(made).__name__}, not a tasker.Worker or tasker.Engine")
