"""Structured logs: one JSON object a line, with the trace id, tenant and event id when known.

The services log through the standard library (``logging.getLogger(__name__)``); structlog's
ProcessorFormatter renders those records, uvicorn's included, so every line has the same shape.
Context that holds for a while (the tenant of a consumer batch, the event being applied) is bound
with :func:`bound` and appears on every line logged inside it.

No secrets or personal data: values under sensitive keys are replaced, and so are bearer tokens,
signatures and e-mail addresses found in messages. Request lines name the route template
(``/v1/people/{person_id}``), never the raw path or the client's address.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, Literal

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from shared.observability.tracing import current_ids

REDACTED = "[redacted]"
_SENSITIVE_KEYS = re.compile(
    r"(pass(word)?|secret|token|authori[sz]ation|cookie|signature|api[_-]?key|email|phone|"
    r"national_id|bank|iban)",
    re.IGNORECASE,
)
_SENSITIVE_TEXT = [
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer " + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),  # JWTs
    (re.compile(r"(?i)\b(v\d=)[0-9a-f]{32,}"), r"\1" + REDACTED),  # webhook signatures
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), REDACTED),  # e-mail
    (re.compile(r"(?i)(://[^:/@\s]+:)[^@\s]+@"), r"\1" + REDACTED + "@"),  # URL passwords
]


def redact_text(text: str) -> str:
    for pattern, replacement in _SENSITIVE_TEXT:
        text = pattern.sub(replacement, text)
    return text


def _redact(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    for key in list(event):
        value = event[key]
        if key not in {"event", "logger", "level", "timestamp"} and _SENSITIVE_KEYS.search(key):
            event[key] = REDACTED
        elif isinstance(value, str):
            event[key] = redact_text(value)
    return event


def _trace_ids(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    ids = current_ids()
    if ids is not None:
        event.setdefault("trace_id", ids[0])
        event.setdefault("span_id", ids[1])
    return event


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _trace_ids,
    ]


def formatter(fmt: Literal["json", "text"] = "json") -> logging.Formatter:
    """JSON lines for machines, or readable text for a developer's terminal; both redacted."""
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
    )


def configure_logging(level: str = "INFO", fmt: Literal["json", "text"] = "json") -> None:
    """Route every standard-library log record (ours, uvicorn's, aiokafka's) through one
    formatter, on standard error."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    # aiokafka reports every reconnect at INFO/WARNING; keep its chatter at WARNING and above.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


# The fields a request learns on its way (its tenant, once resolved), for its request line.
_request_fields: ContextVar[dict[str, str] | None] = ContextVar("request_fields", default=None)


@contextlib.contextmanager
def request_fields() -> Iterator[dict[str, str]]:
    """Collect what the request's handlers annotate (see :func:`annotate_request`)."""
    fields: dict[str, str] = {}
    token = _request_fields.set(fields)
    try:
        yield fields
    finally:
        _request_fields.reset(token)


def annotate_request(**values: str) -> None:
    """Add fields to the current request's log line; nothing outside a request. The dict is
    shared by reference, so dependencies run in a thread pool reach it too."""
    fields = _request_fields.get()
    if fields is not None:
        fields.update(values)


@contextlib.contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Add these fields to every log line written inside the block (this task only)."""
    tokens = structlog.contextvars.bind_contextvars(**values)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
