"""The release version, kept in one file for the whole project: VERSION at the top of the repository.

A built package carries a copy next to this module (``./build.sh dist`` puts it there); a checkout reads the
repository's own. An install from a checkout without either (``pip install bindings/python``) falls back to the
installed distribution's metadata.
"""
from __future__ import annotations

from pathlib import Path


def checkout() -> Path | None:
    """The repository, when this package runs from a checkout's bindings/python/src (not from an install)."""
    here = Path(__file__).resolve().parent
    root = here.parents[3] if len(here.parents) > 3 else None  # bindings/python/src/tasker -> the repository
    return root if root is not None and (root / "include" / "tasker.h").is_file() else None


def _read() -> str:
    candidates = [Path(__file__).resolve().parent / "VERSION"]
    root = checkout()
    if root is not None:
        candidates.append(root / "VERSION")
    for candidate in candidates:
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8").strip()
    from importlib import metadata
    try:
        return metadata.version("tasker-native")
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = _read()
