"""The one module that touches libtasker. Everything else in the package is plain Python.

Loads the library (``TASKER_LIBRARY_PATH``, or the copy in ``tasker/_native`` that the platform wheel carries and
``./build.sh native`` puts in a checkout), checks the ABI version, declares every function's signature, and turns
the C calling convention (UTF-8 pointer + length in, ``tasker_bytes_t`` out, ``tasker_error_t *`` returned) into
``call(name, *args) -> bytes``. Native memory is always freed here, whatever happens.
"""
from __future__ import annotations

import ctypes
import os
import threading
from typing import Any

from ._version import __version__, checkout
from .errors import AbiMismatchError, TaskerError, error_for_code

ABI_VERSION = 2


class _Bytes(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("len", ctypes.c_size_t)]


_p = ctypes.c_void_p
_u8 = ctypes.c_char_p  # inputs are passed as bytes objects: ctypes hands the buffer's pointer, no copy
_size = ctypes.c_size_t
_out = ctypes.POINTER(_Bytes)

# name -> argument types. Every fallible function returns tasker_error_t* (c_void_p).
_JSON_CALLS = {
    "tasker_template_register", "tasker_task_create", "tasker_task_get", "tasker_task_list", "tasker_steps_claim",
    "tasker_step_heartbeat", "tasker_step_complete", "tasker_step_fail", "tasker_steps_report", "tasker_task_evaluate",
    "tasker_task_retry", "tasker_task_cancel", "tasker_step_resolve", "tasker_stale_work_list", "tasker_work_claim",
}
_SIGNATURES: dict[str, tuple[list[Any], Any]] = {
    "tasker_version": ([], ctypes.c_char_p),
    "tasker_abi_version": ([], ctypes.c_uint32),
    "tasker_error_code": ([_p], ctypes.c_int32),
    "tasker_error_message": ([_p], ctypes.c_char_p),
    "tasker_error_details": ([_p], ctypes.c_char_p),
    "tasker_error_free": ([_p], None),
    "tasker_bytes_free": ([_out], None),
    "tasker_engine_open": ([_u8, _size, ctypes.POINTER(_p)], _p),
    "tasker_engine_free": ([_p], None),
    "tasker_engine_close": ([_p], _p),
    "tasker_engine_migrate": ([_p], _p),
    "tasker_engine_advance_clock": ([_p, ctypes.c_int64], _p),
    "tasker_engine_health": ([_p, _out], _p),
    "tasker_subscription_open": ([_p, _u8, _size, ctypes.c_uint32, ctypes.POINTER(_p)], _p),
    "tasker_subscription_pull": ([_p, ctypes.c_uint32, _out], _p),
    "tasker_subscription_free": ([_p], None),
    **{name: ([_p, _u8, _size, _out], _p) for name in _JSON_CALLS},
}


# What a user installs to get the library: the platform wheel carries it in tasker/_native.
_INSTALL_HINT = ("install the wheel built for this machine: pip install --force-reinstall --only-binary :all: "
                 "tasker-native (wheels are built for Linux x86-64 with glibc); or set TASKER_LIBRARY_PATH to a "
                 "libtasker built for it")


def _same_release_hint() -> str:
    """What to do about a library of another release: the package of this release, which carries its own. The build
    step is named only where there is something to build (a checkout)."""
    package = f"pip install --force-reinstall tasker-native=={__version__}"
    if os.environ.get("TASKER_LIBRARY_PATH"):
        hint = (f"TASKER_LIBRARY_PATH names a libtasker of another release: unset it to use the library inside the "
                f"package ({package}), or point it at the libtasker of release {__version__}")
    else:
        hint = f"the library inside the package is from another release: {package}"
    return hint + (" (in this checkout: ./build.sh native)" if checkout() is not None else "")


def _machine() -> str:
    import platform  # only for this message

    return f"{platform.system()} {platform.machine()}"


def _find_library() -> str:
    explicit = os.environ.get("TASKER_LIBRARY_PATH")
    if explicit:
        return explicit
    # The platform wheel's copy (or, in a checkout, the one ./build.sh native puts there).
    bundled = os.path.join(os.path.dirname(__file__), "_native")
    for name in ("libtasker.so", "libtasker.dylib", "tasker.dll"):
        if os.path.exists(os.path.join(bundled, name)):
            return os.path.join(bundled, name)
    raise TaskerError(
        f"libtasker is not inside this tasker-native package ({bundled}): it was installed from the source "
        f"distribution or from a wheel for another platform than this {_machine()}; {_INSTALL_HINT}")


def _load() -> ctypes.CDLL:
    path = _find_library()
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        where = ("TASKER_LIBRARY_PATH names a library this process cannot load" if os.environ.get("TASKER_LIBRARY_PATH")
                 else f"the library inside the package is not for this {_machine()}, or is damaged; {_INSTALL_HINT}")
        raise TaskerError(f"cannot load libtasker from {path}: {e}: {where}") from None
    # The version first: a library of another ABI may lack (or differ in) the functions declared below.
    try:
        abi_version = lib.tasker_abi_version
    except AttributeError:
        raise AbiMismatchError(f"{path} is not libtasker: it has no tasker_abi_version; {_same_release_hint()}") from None
    abi_version.argtypes, abi_version.restype = [], ctypes.c_uint32
    found = abi_version()
    if found != ABI_VERSION:
        raise AbiMismatchError(f"libtasker at {path} has ABI version {found}; this binding needs {ABI_VERSION}: "
                               f"{_same_release_hint()}")
    for name, (argtypes, restype) in _SIGNATURES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise AbiMismatchError(f"libtasker at {path} has no {name}: it is not the release this binding needs; "
                                   f"{_same_release_hint()}") from None
        fn.argtypes = argtypes
        fn.restype = restype
    return lib


_loaded: ctypes.CDLL | None = None
_load_lock = threading.Lock()


def _lib() -> ctypes.CDLL:
    """Loads libtasker on first use, not at import: the .NET runtime inside it starts with the first call and does
    not survive fork(), so a parent process (a Celery or Gunicorn master) may import tasker and fork workers, as
    long as only the workers open engines."""
    global _loaded
    if _loaded is None:
        with _load_lock:
            if _loaded is None:
                _loaded = _load()
    return _loaded


def check(error: int | None) -> None:
    """Raises the TaskerError subclass for a returned error (and frees it)."""
    if not error:
        return
    try:
        code = _lib().tasker_error_code(error)
        message = _lib().tasker_error_message(error).decode("utf-8", "replace")
        details = _lib().tasker_error_details(error).decode("utf-8", "replace")
    finally:
        _lib().tasker_error_free(error)
    raise error_for_code(code, message, details)


def take(out: _Bytes) -> bytes:
    """Copies exactly ``len`` bytes out of a tasker_bytes_t and frees it."""
    try:
        return ctypes.string_at(out.data, out.len) if out.data else b""
    finally:
        _lib().tasker_bytes_free(ctypes.byref(out))


def call_json(name: str, handle: int, payload: bytes) -> bytes:
    """Calls one of the (engine, data, len, out) functions and returns its output bytes."""
    out = _Bytes()
    check(getattr(_lib(), name)(handle, payload, len(payload), ctypes.byref(out)))
    return take(out)


def engine_open(config: bytes) -> int:
    handle = _p()
    check(_lib().tasker_engine_open(config, len(config), ctypes.byref(handle)))
    return handle.value or 0


def engine_free(handle: int) -> None:
    """The destructor: ignores stale handles and failures on the way out (finalizers have nowhere to report)."""
    _lib().tasker_engine_free(handle)


def engine_close(handle: int) -> None:
    """Shuts the engine down and releases the handle (even when it fails), raising what went wrong on the way out."""
    check(_lib().tasker_engine_close(handle))


def engine_migrate(handle: int) -> None:
    check(_lib().tasker_engine_migrate(handle))


def engine_advance_clock(handle: int, milliseconds: int) -> None:
    check(_lib().tasker_engine_advance_clock(handle, milliseconds))


def engine_health(handle: int) -> bytes:
    out = _Bytes()
    check(_lib().tasker_engine_health(handle, ctypes.byref(out)))
    return take(out)


def subscription_open(engine: int, pattern: bytes, capacity: int) -> int:
    handle = _p()
    check(_lib().tasker_subscription_open(engine, pattern, len(pattern), capacity, ctypes.byref(handle)))
    return handle.value or 0


def subscription_pull(handle: int, max_events: int) -> bytes:
    out = _Bytes()
    check(_lib().tasker_subscription_pull(handle, max_events, ctypes.byref(out)))
    return take(out)


def subscription_free(handle: int) -> None:
    _lib().tasker_subscription_free(handle)


def version() -> str:
    text: bytes = _lib().tasker_version()
    return text.decode()
