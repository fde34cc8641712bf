"""Log lines: JSON with the trace id, tenant and event id; secrets and personal data replaced."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from shared.observability.logs import REDACTED, bound, formatter
from shared.observability.tracing import setup_tracing, tracer


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    logger = logging.getLogger("quotient.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_carries_trace_tenant_and_event(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    setup_tracing("quotient-test")
    with (
        tracer("goals").start_as_current_span("work") as span,
        bound(tenant_id="t-1", event_id="e-9"),
    ):
        logger.info("applied %d events", 3, extra={"consumer_group": "goals"})
    logger.warning("outside")
    inside, outside = lines(stream)
    ctx = span.get_span_context()
    assert inside["event"] == "applied 3 events"
    assert inside["level"] == "info"
    assert inside["logger"] == "quotient.test.logs"
    assert inside["trace_id"] == f"{ctx.trace_id:032x}"
    assert inside["span_id"] == f"{ctx.span_id:016x}"
    assert inside["tenant_id"] == "t-1" and inside["event_id"] == "e-9"
    assert inside["consumer_group"] == "goals"
    assert str(inside["timestamp"]).endswith("Z")
    # The bound context ends with its block.
    assert "tenant_id" not in outside and "trace_id" not in outside


def test_secrets_and_personal_data_never_reach_a_line(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwLTEyIn0.c2lnbmF0dXJlLWJ5dGVz"
    logger.info(
        "call with Bearer %s from ana.li@example.com, signature v1=%s, db %s",
        "abc.def.ghi",
        "ab" * 32,
        "postgresql://quotient_app:hunter2@db:5432/quotient",
        extra={"secret": "s3cr3t", "webhook_token": "tok", "email": "x@y.cn", "note": jwt},
    )
    (line,) = lines(stream)
    text = json.dumps(line)
    for leaked in ("abc.def.ghi", "ana.li@example.com", "ab" * 32, "hunter2", "s3cr3t", jwt):
        assert leaked not in text, leaked
    assert line["secret"] == line["webhook_token"] == line["email"] == REDACTED
    assert "Bearer [redacted]" in str(line["event"])
    assert "quotient_app:[redacted]@db" in str(line["event"])
