"""Which handlers finish too soon to be worth a pool thread.

Handing a step to a pool thread and getting its report back costs about 90 µs here (waking the thread, the GIL
going back and forth; docs/performance.md). A handler that runs in less than that is done sooner on the calling
thread, one after the other: for such a handler the pool buys no overlap, only the hand-off. So ``handle`` keeps, per
handler name, how long its last runs took, and runs the steps of a handler whose median run is under
``QUICK_SECONDS`` on the calling thread. The median, not the mean: one run stretched by the scheduler or a garbage
collection does not send a quick handler back to the pool, while one that turns slow goes back within three runs,
and one run that blocks (over ``BLOCKED_SECONDS``: a cache miss that became an HTTP call) sends it back at once, so
the rest of its wave runs on the pool instead of one after the other. A handler never seen yet, or one that waits
on I/O, goes to the pool as before.
"""
from __future__ import annotations

import threading
from collections import deque

QUICK_SECONDS = 50e-6
BLOCKED_SECONDS = 5e-3
RUNS = 5  # the runs whose median decides


class HandlerTimes:
    """Per handler name, its last ``RUNS`` durations and whether their median is quick. Shared by the ``handle``
    calls of one engine; pool threads record too."""

    def __init__(self) -> None:
        self._runs: dict[str, deque[float]] = {}
        self._quick: dict[str, bool] = {}
        self._lock = threading.Lock()

    def record(self, handler: str, seconds: float) -> None:
        with self._lock:
            runs = self._runs.setdefault(handler, deque(maxlen=RUNS))
            if seconds > BLOCKED_SECONDS:
                runs.clear()
            runs.append(seconds)
            # A quick run of a quick handler keeps it quick (the runs under the line can only have grown in number):
            # the median is looked at only when that could change.
            if not (seconds < QUICK_SECONDS and self._quick.get(handler)):
                self._quick[handler] = sorted(runs)[len(runs) // 2] < QUICK_SECONDS

    def quick(self, handler: str) -> bool:
        return self._quick.get(handler, False)

    def forget(self, handler: str) -> None:
        """A handler registered again under this name is another handler: its times start over."""
        with self._lock:
            self._runs.pop(handler, None)
            self._quick.pop(handler, None)
