"""JSON in and out of the engine: compact UTF-8, and errors that name where a value is not JSON."""
from __future__ import annotations

import json
import math
from typing import Any

_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_decoder = json.JSONDecoder()

#: The engine reads at most 64 levels of JSON per request; a field's value sits one level inside the request.
MAX_FIELD_DEPTH = 63


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
    """Why a request is not JSON the engine accepts, naming the field; None when it is fine."""
    if not isinstance(request, dict):
        return _explain(request, "value", "value", 0, frozenset())
    for key, item in request.items():
        found = _explain(item, str(key), str(key), 0, frozenset())
        if found:
            return found
    return None


def why_refused(payload: bytes, field: str) -> str | None:
    """Why the engine may have refused ``field`` of a request this module encoded (e.g. nesting too deep)."""
    try:
        request = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    if not isinstance(request, dict) or field not in request:
        return None
    return _explain(request[field], field, field, 0, frozenset())


def _explain(value: Any, path: str, root: str, depth: int, seen: frozenset[int]) -> str | None:
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
        if depth >= MAX_FIELD_DEPTH:
            return f"{root} nests more than {MAX_FIELD_DEPTH} levels deep, more than the engine accepts"
        if id(value) in seen:
            return f"{path} contains itself (a cycle)"
        seen = seen | {id(value)}
    if isinstance(value, dict):
        for key, item in value.items():
            if not (key is None or isinstance(key, (str, int, float, bool))):
                return f"{path} has a {type(key).__name__} key ({key!r}); JSON object keys are strings"
            if isinstance(key, str):
                found = _explain(key, f"{path} key {key!r}", root, depth + 1, seen)
                if found:
                    return found
            found = _explain(item, f"{path}[{key!r}]", root, depth + 1, seen)
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _explain(item, f"{path}[{index}]", root, depth + 1, seen)
            if found:
                return found
        return None
    return f"{path} is a {type(value).__name__}, which is not JSON-serializable"
