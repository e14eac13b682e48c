"""The release version, kept in one file for the whole project: VERSION at the top of the repository.

A built package carries a copy next to this module (``./build.sh dist`` puts it there); a checkout reads the
repository's own. An install from a checkout without either (``pip install bindings/python``) falls back to the
installed distribution's metadata.
"""
from __future__ import annotations

import os

# os.path, not pathlib: `import tasker` runs this, and pathlib (with fnmatch, urllib.parse and ipaddress) adds about
# 0.5 MB to every process that imports the binding (docs/performance.md, "Footprint").
_HERE = os.path.dirname(os.path.realpath(__file__))


def checkout() -> str | None:
    """The repository, when this package runs from a checkout's bindings/python/src (not from an install)."""
    root = _HERE
    for _ in range(4):  # bindings/python/src/tasker -> the repository
        root = os.path.dirname(root)
    return root if os.path.isfile(os.path.join(root, "include", "tasker.h")) else None


def _read() -> str:
    candidates = [os.path.join(_HERE, "VERSION")]
    root = checkout()
    if root is not None:
        candidates.append(os.path.join(root, "VERSION"))
    for candidate in candidates:
        if os.path.isfile(candidate):
            with open(candidate, encoding="utf-8") as file:
                return file.read().strip()
    from importlib import metadata
    try:
        return metadata.version("tasker-native")
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = _read()
