"""An HTTP step handler on the standard library (urllib): Rails Tasker's ``StepHandler::Api`` for Python.

    class FetchCart(tasker.ApiStepHandler):
        def call(self, context, connection):
            return connection.get("carts", {"id": context.task.context["cart_id"]})

The step's handler configuration (``handler_config`` / ``handler.initialization``) gives the connection: ``url``,
``params`` (sent with every request), ``headers``, ``timeout`` (seconds). A 2xx response's JSON body (else its text)
is the step's result. 429 and 503 are retryable failures after the server's ``Retry-After`` when it sends one; any
other 4xx is permanent; 5xx and network errors are retryable. Messages name the method, URL path and status, never
query parameters or headers (they may carry keys).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import PermanentError, RetryableError
from .handler import StepContext, StepHandler

BACKOFF_STATUSES = (429, 503)
CONFIG_KEYS = {"url", "params", "headers", "timeout", "type"}


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    request_line: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Connection:
    """``get/delete(path, params, headers)`` and ``post/put/patch(path, body, headers)`` relative to ``url``."""

    url: str
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0

    def get(self, path: str = "", params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> Response:
        return self._run("GET", path, params, None, headers)

    def delete(self, path: str = "", params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> Response:
        return self._run("DELETE", path, params, None, headers)

    def post(self, path: str = "", body: Any = None, headers: Mapping[str, str] | None = None) -> Response:
        return self._run("POST", path, None, body, headers)

    def put(self, path: str = "", body: Any = None, headers: Mapping[str, str] | None = None) -> Response:
        return self._run("PUT", path, None, body, headers)

    def patch(self, path: str = "", body: Any = None, headers: Mapping[str, str] | None = None) -> Response:
        return self._run("PATCH", path, None, body, headers)

    def _run(self, method: str, path: str, params: Mapping[str, Any] | None, body: Any,
             headers: Mapping[str, str] | None) -> Response:
        base = self.url if self.url.endswith("/") or not path or path.startswith("/") else self.url + "/"
        import urllib.error  # imported when first used: urllib loads ssl (~5 MB a process)
        import urllib.parse
        import urllib.request

        target = urllib.parse.urlsplit(urllib.parse.urljoin(base, path) if path else self.url)
        query = dict(urllib.parse.parse_qsl(target.query))
        query.update({k: str(v) for k, v in {**self.params, **(params or {})}.items()})
        url = urllib.parse.urlunsplit(target._replace(query=urllib.parse.urlencode(query)))
        data = None
        all_headers = {"Accept": "application/json", **self.headers, **(headers or {})}
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            data = data.encode() if isinstance(data, str) else data
            all_headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        line = f"{method} {target.scheme}://{target.netloc}{target.path}"
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - the template's URL
                return Response(answer.status, dict(answer.headers.items()), answer.read(), line)
        except urllib.error.HTTPError as error:  # non-2xx: a response like any other, classified by the handler
            return Response(error.code, dict(error.headers.items()), error.read(), line)


class ApiStepHandler(StepHandler):
    """Implement ``call(context, connection)`` and return ``connection.get(...)`` (or post, ...)."""

    def call(self, context: StepContext, connection: Connection) -> Response:  # pragma: no cover - the subclass's job
        raise NotImplementedError(f"{type(self).__name__}.call")

    def connection(self, context: StepContext) -> Connection:
        config = dict(context.step.initialization or {})
        unknown = sorted(set(config) - CONFIG_KEYS)
        if unknown:
            raise PermanentError(f"{type(self).__name__}: unknown handler config keys: {', '.join(unknown)}")
        import urllib.parse

        if not isinstance(config.get("url"), str) or urllib.parse.urlsplit(config["url"]).scheme not in ("http", "https"):
            raise PermanentError(f"{type(self).__name__}: handler config needs an http(s) url")
        return Connection(config["url"], dict(config.get("params") or {}), dict(config.get("headers") or {}),
                          float(config.get("timeout") or 30.0))

    def process(self, context: StepContext) -> Any:
        response = self.call(context, self.connection(context))
        check(response)
        try:
            return response.json()
        except ValueError:
            return response.body.decode("utf-8", "replace")


def check(response: Response) -> None:
    """Raises the failure a non-2xx response means (see the module docstring)."""
    if 200 <= response.status <= 226:
        return
    what = f"HTTP {response.status} from {response.request_line}"
    if response.status in BACKOFF_STATUSES:
        raise RetryableError(f"{what}: backing off", retry_after=retry_after(response.headers))
    if 400 <= response.status < 500:
        raise PermanentError(what)
    raise RetryableError(what)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Retry-After in seconds (a number or an HTTP date); None when absent or unreadable (the engine's backoff)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None or not value.strip():
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        import email.utils

        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
