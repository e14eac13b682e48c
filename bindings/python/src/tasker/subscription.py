"""Event subscriptions: the host pulls batches of events (docs/events.md)."""
from __future__ import annotations

import os
import weakref
from typing import Any, Iterator

from . import _ffi
from ._json import loads
from ._lifetime import check_process, release
from .engine import Engine  # loaded already: this module is loaded by Engine.subscribe (a hint, for get_type_hints)
from .errors import InvalidHandleError


class Subscription:
    """An event subscription: ``pull()`` returns the buffered events (dicts, see docs/events.md), oldest first;
    iterating yields every event buffered now and stops when the buffer is empty. ``dropped`` counts events lost
    to a full buffer. A context manager; a finalizer closes a subscription that is garbage collected open."""

    def __init__(self, engine: Engine, pattern: str, capacity: int):
        self._engine = engine  # the engine lives at least as long as its subscriptions
        self._pid = os.getpid()
        self._handle = _ffi.subscription_open(engine._h, pattern.encode("utf-8"), capacity)
        self._finalizer = weakref.finalize(self, release, _ffi.subscription_free, self._handle, self._pid)
        self.pattern = pattern
        self.dropped = 0

    def pull(self, max_events: int = 1000) -> list[dict[str, Any]]:
        if not self._finalizer.alive:
            raise InvalidHandleError("the subscription is closed")
        check_process(self._pid, "subscription")
        batch = loads(_ffi.subscription_pull(self._handle, max_events))
        self.dropped = batch["dropped"]
        events: list[dict[str, Any]] = batch["events"]
        return events

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while events := self.pull():
            yield from events

    def close(self) -> None:
        """Ends the subscription (idempotent)."""
        if self._finalizer.detach() and os.getpid() == self._pid:
            _ffi.subscription_free(self._handle)

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Subscription"]
