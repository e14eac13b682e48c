"""Native handles and processes: libtasker's runtime does not survive ``fork``, so a handle belongs to the process that
opened it and is released only there."""
from __future__ import annotations

import os
from typing import Callable

from .errors import TaskerError


def release(free: Callable[[int], None], handle: int, pid: int) -> None:
    """Frees a native handle from a finalizer (garbage collection or interpreter exit). Never in a forked child: the
    library's runtime does not survive fork, and the handle belongs to the parent anyway."""
    if os.getpid() == pid:
        free(handle)


def check_process(pid: int, what: str) -> None:
    if os.getpid() != pid:
        raise TaskerError(
            f"this {what} was opened in process {pid} and cannot be used after fork; "
            "open a new Engine in each worker process (e.g. in Celery's worker_process_init)")
