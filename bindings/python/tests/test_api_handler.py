"""tasker.ApiStepHandler against a real HTTP server on a loopback port; bypass_steps and requested_at."""
import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

import tasker

TEMPLATE = """
name: api/cart
version: 1.0.0
step_templates:
  - name: fetch_cart
    handler_class: FetchCart
    handler_config: { url: "URL", params: { api_key: k-123 } }
  - name: notify
    handler_class: Notify
    depends_on_step: fetch_cart
    skippable: true
"""


class Server:
    """Answers each path with the next of its scripted (status, headers, body) responses; records requests."""

    def __init__(self, routes):
        self.routes, self.hits, self.requests = routes, {}, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                outer.requests.append((self.command, url.path, dict(parse_qsl(url.query))))
                answers = outer.routes.get(url.path, [(404, {}, "no route")])
                index = min(outer.hits.get(url.path, 0), len(answers) - 1)
                outer.hits[url.path] = outer.hits.get(url.path, 0) + 1
                status, headers, body = answers[index]
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path=""):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class FetchCart(tasker.ApiStepHandler):
    def call(self, context, connection):
        return connection.get("carts", {"id": context.task.context["cart_id"]})


class Notify(tasker.StepHandler):
    def process(self, context):
        return {"notified": True}


def run(engine, server, **fields):
    engine.register_template(TEMPLATE.replace("URL", server.url("/api")))
    engine.register_handler("FetchCart", FetchCart)
    engine.register_handler("Notify", Notify)
    task = engine.create_task("api/cart", namespace="default", context={"cart_id": 12}, **fields)
    return task, engine.handle(task.uuid)


def step(engine, task, name):
    return next(s for s in engine.get_task(task.uuid).steps if s.name == name)


def test_a_2xx_json_body_is_the_result_and_config_params_are_sent(engine):
    server = Server({"/api/carts": [(200, {"Content-Type": "application/json"}, {"items": [1, 2]})]})
    try:
        task, outcome = run(engine, server)
        assert outcome.action == "complete"
        assert step(engine, task, "fetch_cart").result == {"items": [1, 2]}
        assert server.requests == [("GET", "/api/carts", {"api_key": "k-123", "id": "12"})]
    finally:
        server.close()


def test_429_with_retry_after_is_retryable_after_that_delay(engine):
    server = Server({"/api/carts": [(429, {"Retry-After": "9"}, "slow"), (200, {}, {"ok": 1})]})
    try:
        task, outcome = run(engine, server)
        assert (outcome.action, outcome.delay_seconds) == ("reenqueue", 9.0)
        failed = step(engine, task, "fetch_cart")
        assert failed.state == "waiting_for_retry"
        assert "HTTP 429 from GET" in failed.error["message"] and "k-123" not in failed.error["message"]
        engine.advance_clock(9)
        assert engine.handle(task.uuid).action == "complete"
    finally:
        server.close()


@pytest.mark.parametrize("status,state", [(404, "error"), (422, "error"), (500, "waiting_for_retry"), (503, "waiting_for_retry")])
def test_other_4xx_are_permanent_and_5xx_retryable(engine, status, state):
    server = Server({"/api/carts": [(status, {}, "nope")]})
    try:
        task, _ = run(engine, server)
        failed = step(engine, task, "fetch_cart")
        assert (failed.state, failed.attempts) == (state, 1)
    finally:
        server.close()


def test_bypass_steps_and_requested_at_pass_through(engine):
    server = Server({"/api/carts": [(200, {}, {"ok": 1})]})
    try:
        when = datetime.datetime(2026, 1, 31, 10, 0, tzinfo=datetime.timezone.utc)
        task, outcome = run(engine, server, bypass_steps=["notify"], requested_at=when)
        assert outcome.action == "complete"
        skipped = step(engine, task, "notify")
        assert (skipped.state, skipped.attempts) == ("complete", 0)
        view = engine.get_task(task.uuid)
        assert datetime.datetime.fromisoformat(view.raw["requested_at"].replace("Z", "+00:00")) == when
    finally:
        server.close()
