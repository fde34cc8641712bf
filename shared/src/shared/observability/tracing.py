"""OpenTelemetry tracing: one trace from the webhook through goals, scoring and incentives.

The W3C trace context travels with every event: the unit of work puts ``traceparent`` (and
``tracestate``) into the event's ``trace`` field, which the outbox stores as the record's headers,
so Kafka (or the embedded log) carries it to the next consumer. A consumer batch runs in a span
whose parent is the first record's context and which links the others (the OpenTelemetry advice
for batch processing), so what the batch emits continues the same trace.

Beside the trace context, every record carries ``quotient-origin``: when Quotient recorded the
activity that started the chain. Consumers measure recalculation latency against it.

Export is off by default. It turns on (OTLP over HTTP) when the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set; the exporter
reads the rest of its configuration (headers, timeout) from the standard variables too.
``OTEL_SERVICE_NAME`` overrides the service name.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

ORIGIN_HEADER = "quotient-origin"
_PROPAGATOR = TraceContextTextMapPropagator()
_origin: ContextVar[float | None] = ContextVar("quotient_origin", default=None)


class _FanOut(SpanProcessor):
    """Forwards finished spans to exporters that can be added and removed at run time (the SDK's
    own processors cannot be removed; tests attach an in-memory exporter for a while)."""

    def __init__(self) -> None:
        self._exporters: list[SpanExporter] = []
        self._lock = threading.Lock()

    def add(self, exporter: SpanExporter) -> None:
        with self._lock:
            self._exporters = [*self._exporters, exporter]

    def remove(self, exporter: SpanExporter) -> None:
        with self._lock:
            self._exporters = [e for e in self._exporters if e is not exporter]

    def on_end(self, span: ReadableSpan) -> None:
        for exporter in self._exporters:
            exporter.export([span])


class _Scrub(SpanProcessor):
    """Secrets never leave in span attributes: a Salesforce webhook's path ends in its secret
    token, and query strings may carry credentials."""

    _PATH = re.compile(r"(/webhooks/[^/]+/)[^/?]+")
    _QUERY = re.compile(r"(?i)((?:token|secret|signature|key|password)[^=&]*=)[^&]*")

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        attributes = span.attributes or {}
        path = attributes.get("url.path")
        if isinstance(path, str) and self._PATH.search(path):
            span.set_attribute("url.path", self._PATH.sub(r"\1[redacted]", path))
        query = attributes.get("url.query")
        if isinstance(query, str) and self._QUERY.search(query):
            span.set_attribute("url.query", self._QUERY.sub(r"\1[redacted]", query))


_FANOUT = _FanOut()
_provider: TracerProvider | None = None
_otlp_on = False
_lock = threading.Lock()


def otlp_configured() -> bool:
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def setup_tracing(service_name: str) -> TracerProvider:
    """Install this process's tracer provider once (the first service name wins), and the OTLP
    exporter when configured."""
    global _provider, _otlp_on
    with _lock:
        if _provider is None:
            attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
            _provider = TracerProvider(resource=Resource.create(attributes))
            _provider.add_span_processor(_Scrub())
            _provider.add_span_processor(_FANOUT)
            trace.set_tracer_provider(_provider)
        if otlp_configured() and not _otlp_on:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            _otlp_on = True
        return _provider


def shutdown_tracing() -> None:
    """Flush what the exporters still hold (at process exit)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis=5000)


@contextlib.contextmanager
def exporting_to(exporter: SpanExporter) -> Iterator[SpanExporter]:
    """Send every span that ends while this block runs to ``exporter`` as well."""
    setup_tracing("quotient")
    _FANOUT.add(exporter)
    try:
        yield exporter
    finally:
        _FANOUT.remove(exporter)


def tracer(service: str) -> trace.Tracer:
    """The tracer of one service; its instrumentation scope names the service (quotient.goals)."""
    return trace.get_tracer(f"quotient.{service}")


def outgoing_headers() -> dict[str, str]:
    """The headers an event emitted now carries: the current trace context and its origin."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    origin = _origin.get()
    carrier[ORIGIN_HEADER] = f"{origin if origin is not None else time.time():.6f}"
    return carrier


def context_from(headers: Mapping[str, str]) -> otel_context.Context:
    return _PROPAGATOR.extract(dict(headers))


def origin_of(headers: Mapping[str, str]) -> float | None:
    raw = headers.get(ORIGIN_HEADER)
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


@contextlib.contextmanager
def origin(at: float | None) -> Iterator[None]:
    """Events emitted inside this block descend from an activity recorded at ``at``."""
    token = _origin.set(at)
    try:
        yield
    finally:
        _origin.reset(token)


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) in hex of the active span, for log lines."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
