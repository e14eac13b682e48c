"""Which handlers finish too soon to be worth a pool thread.

Handing a step to a pool thread and getting its report back costs about 90 µs here (waking the thread, the GIL
going back and forth; docs/performance.md). A handler that runs in less than that is done sooner on the calling
thread, one after the other: for such a handler the pool buys no overlap, only the hand-off. So ``handle`` keeps, per
handler name, a moving average of how long its runs took, and runs the steps of a handler under ``QUICK_SECONDS`` on
the calling thread. A handler never seen yet, or one that waits on I/O, goes to the pool as before; one that turns
slow goes back to the pool after a run or two (the average moves a quarter of the way to each new run).
"""
from __future__ import annotations

QUICK_SECONDS = 50e-6
_WEIGHT = 0.25


class HandlerTimes:
    """Per handler name, the moving average of its runs' durations (seconds). Shared by the calls of one engine;
    updates from pool threads are single dict writes (atomic under the GIL), and a lost one only delays the average."""

    def __init__(self) -> None:
        self._average: dict[str, float] = {}

    def record(self, handler: str, seconds: float) -> None:
        previous = self._average.get(handler)
        self._average[handler] = seconds if previous is None else previous + (seconds - previous) * _WEIGHT

    def quick(self, handler: str) -> bool:
        average = self._average.get(handler)
        return average is not None and average < QUICK_SECONDS
