"""Export is off by default and OTLP/HTTP when the standard variable names a collector: a process
started with OTEL_EXPORTER_OTLP_ENDPOINT posts its spans there (a local receiver stands in for
the collector and decodes the protobuf request)."""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.helpers import free_port

SCRIPT = """
from shared.observability.tracing import otlp_configured, setup_tracing, shutdown_tracing, tracer
assert otlp_configured()
provider = setup_tracing("quotient-goals-worker")
with tracer("goals").start_as_current_span("goals process"):
    pass
shutdown_tracing()
provider.shutdown()
"""


def test_spans_reach_the_configured_collector() -> None:
    received: list[tuple[str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    port = free_port()
    server = HTTPServer(("127.0.0.1", port), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}", "PATH": "/usr/bin:/bin"}
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
    finally:
        server.shutdown()
    assert [path for path, _ in received] == ["/v1/traces"]
    request = ExportTraceServiceRequest.FromString(received[0][1])
    (resource_spans,) = request.resource_spans
    attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert attributes["service.name"] == "quotient-goals-worker"
    (scope_spans,) = resource_spans.scope_spans
    assert scope_spans.scope.name == "quotient.goals"
    assert [s.name for s in scope_spans.spans] == ["goals process"]


def test_no_exporter_without_configuration() -> None:
    script = (
        "from shared.observability.tracing import otlp_configured; assert not otlp_configured()"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
