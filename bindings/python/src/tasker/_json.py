"""JSON in and out of the engine: compact UTF-8, and errors that name where a value is not JSON. What the engine
accepts (nesting, size, NUL) is the engine's to say: nothing here checks it."""
from __future__ import annotations

import json
import math
from typing import Any

_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_decoder = json.JSONDecoder()


def dumps(value: Any) -> bytes:
    """Encodes a request; raises ``TypeError`` naming the first part of it JSON cannot represent (a set, a datetime,
    NaN, a tuple key, text with a lone surrogate, a cycle), by the request field it is in: ``result['items'][2] is a
    set, which is not JSON-serializable``."""
    try:
        return _encoder.encode(value).encode("utf-8")
    except (TypeError, ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        raise TypeError(explain_fields(value) or "the value is not JSON-serializable") from None


def loads(data: bytes) -> Any:
    """Decodes the engine's output (always UTF-8 JSON)."""
    return _decoder.decode(data.decode("utf-8"))


def explain_fields(request: Any) -> str | None:
    """Why a request is not JSON, naming the field; None when it is fine."""
    try:
        if not isinstance(request, dict):
            return _explain(request, "value", frozenset())
        for key, item in request.items():
            found = _explain(item, str(key), frozenset())
            if found:
                return found
        return None
    except RecursionError:
        return "the value nests too deep for Python to serialize"


def _explain(value: Any, path: str, seen: frozenset[int]) -> str | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{path} is text with a lone surrogate, which is not UTF-8"
        return None
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path} is {value!r}, which JSON cannot represent"
    if isinstance(value, (dict, list, tuple)):
        if id(value) in seen:
            return f"{path} contains itself (a cycle)"
        seen = seen | {id(value)}
    if isinstance(value, dict):
        for key, item in value.items():
            if not (key is None or isinstance(key, (str, int, float, bool))):
                return f"{path} has a {type(key).__name__} key ({key!r}); JSON object keys are strings"
            if isinstance(key, str):
                found = _explain(key, f"{path} key {key!r}", seen)
                if found:
                    return found
            found = _explain(item, f"{path}[{key!r}]", seen)
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _explain(item, f"{path}[{index}]", seen)
            if found:
                return found
        return None
    return f"{path} is a {type(value).__name__}, which is not JSON-serializable"
