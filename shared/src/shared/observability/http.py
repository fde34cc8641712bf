"""HTTP requests: the latency histogram and one log line per request, labelled by route template.

The server span is FastAPI's own (its native OpenTelemetry support continues the caller's trace
when it sends ``traceparent``); :func:`telemetry_config` sets it up: spans only (the metrics are
Prometheus', and its log records would carry request bodies), no span for probes and scrapes.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi.telemetry import TelemetryConfig
from opentelemetry.sdk.trace import TracerProvider
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.observability.logs import request_fields
from shared.observability.metrics import HTTP_LATENCY

log = logging.getLogger("quotient.http")

# Probes and scrapes are neither traced nor logged (they would drown the rest).
_QUIET = {"/healthz", "/readyz", "/metrics"}


def _route_of(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return (scope.get("root_path") or "") + path
    if scope.get("root_path"):  # inside a mounted app (static files): one label for the mount
        return f"{scope['root_path']}/*"
    return "unmatched"


def telemetry_config(provider: TracerProvider) -> TelemetryConfig:
    return {
        "tracer_provider": provider,
        "tracing": True,
        "metrics": False,
        "logs": False,
        "operation_spans": False,
        "exclude": lambda scope: scope.get("path") in _QUIET,
    }


class ObservabilityMiddleware:
    """Pure ASGI (no buffering of bodies): HTTP requests only; websockets pass through."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in _QUIET:
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        status = 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with request_fields() as fields:
            try:
                await self.app(scope, receive, send_status)
            finally:
                self._record(method, scope, status, started, fields)

    @staticmethod
    def _record(
        method: str, scope: Scope, status: int, started: float, fields: dict[str, str]
    ) -> None:
        route = _route_of(scope)
        elapsed = time.perf_counter() - started
        HTTP_LATENCY.labels(method, route, str(status)).observe(elapsed)
        log.info(
            "request",
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                **fields,
            },
        )
