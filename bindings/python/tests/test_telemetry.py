"""OpenTelemetry end to end: a real OTLP/HTTP receiver on loopback gets the engine's step spans and metrics when the
host sets the standard OTEL_* variables. The workflow runs in a fresh interpreter: exporters are process-wide."""
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path



class Receiver(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.received.append((self.path, self.headers.get("Content-Type"), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


CREATOR = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"  # the web request that created the task
JOB = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"      # the queue job that handles it


def test_step_spans_and_metrics_reach_an_otlp_receiver():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = (
        "import sys, tasker\n"
        "from conftest import register_order_handlers, ORDER_CONTEXT\n"
        "class Tagged(tasker.StepHandler):\n"
        "    def process(self, context):\n"
        "        context.set_attribute('order.region', 'eu-west')\n"
        "        return {'ok': True}\n"
        "with tasker.Engine() as engine:\n"
        "    register_order_handlers(engine)\n"
        "    engine.register_handler('ShipOrder', Tagged())\n"
        f"    task = engine.create_task('order_fulfillment', namespace='fulfillment', context=ORDER_CONTEXT, traceparent='{CREATOR}')\n"
        f"    assert engine.handle(task.uuid, traceparent='{JOB}').action == 'complete'\n"
        "    print(task.uuid)\n")
    env = {**os.environ,
           "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_port}",
           "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
           "OTEL_SERVICE_NAME": "tasker-otel-test",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    try:
        run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr
    task_uuid = run.stdout.strip().encode()

    traces = b"".join(body for path, _, body in Receiver.received if path == "/v1/traces")
    metrics = b"".join(body for path, _, body in Receiver.received if path == "/v1/metrics")
    assert {ctype for path, ctype, _ in Receiver.received} == {"application/x-protobuf"}
    for step in (b"validate_order", b"reserve_inventory", b"process_payment", b"ship_order"):
        assert b"tasker.step " + step in traces
    assert task_uuid in traces and b"tasker.step.attempt" in traces and b"tasker-otel-test" in traces
    assert b"tasker.steps.completed" in metrics and b"tasker.step.duration" in metrics
    # W3C linking, as OTLP's raw 16-byte trace ids and 8-byte span ids: the handle call's traceparent parents the
    # step spans; the creator's trace gets the finished task's span.
    assert bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736") in traces and bytes.fromhex("00f067aa0ba902b7") in traces
    assert bytes.fromhex("0af7651916cd43dd8448eb211c80319c") in traces and b"tasker.task order_fulfillment" in traces
    # the handler's own span, with the attribute it set
    assert b"tasker.handler ShipOrder" in traces and b"order.region" in traces and b"eu-west" in traces
