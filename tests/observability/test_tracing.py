"""One webhook, one trace: the request span, then consumer spans in goals, scoring and incentives,
each the child of the span that emitted the event it applied (context carried in the bus
record's headers), over the embedded log and over Kafka."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from shared.observability.metrics import EVENTS_CONSUMED
from shared.observability.tracing import exporting_to
from tests.e2e.slice import COMMISSIONS, SCORES, configure, post_events
from tests.helpers import activity, auth, eventually, graphql, make_settings, running


async def quiet(seconds: float = 1.5, timeout: float = 60) -> None:
    """Wait until no consumer has applied anything for a while (set-up events all handled), so
    the traced webhook's events start their own batches."""

    def total() -> float:
        return sum(s.value for m in EVENTS_CONSUMED.collect() for s in m.samples)

    deadline = asyncio.get_running_loop().time() + timeout
    last, since = total(), asyncio.get_running_loop().time()
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.25)
        now = total()
        if now != last:
            last, since = now, asyncio.get_running_loop().time()
        elif asyncio.get_running_loop().time() - since >= seconds:
            return
    raise AssertionError("the consumers never went quiet")


def find(spans: list[ReadableSpan], pred: Callable[[ReadableSpan], bool]) -> list[ReadableSpan]:
    return [s for s in spans if pred(s)]


async def test_one_webhook_is_one_trace_across_the_services(
    database: DatabaseUrls, bus_kind: str, request: pytest.FixtureRequest
) -> None:
    kafka = request.getfixturevalue("kafka_bootstrap") if bus_kind == "kafka" else None
    settings = make_settings(database, kafka=kafka)
    exporter = InMemorySpanExporter()
    with exporting_to(exporter):
        async with running(create_app(settings)) as client:
            clients = {"goals": client, "scoring": client, "incentives": client}
            tenant_id, source = await configure(clients, settings)
            await quiet()
            exporter.clear()
            await post_events(
                client,
                source,
                [activity("pay-1", amount="500000.00", occurred_at="2026-03-02T09:00:00+08:00")],
            )
            rep = auth(settings, tenant_id, "rep", subject="p-1")
            variables = {"p": "p-1", "m": "2026-03"}

            async def paid_and_scored() -> bool:
                commissions = await graphql(client, rep, COMMISSIONS, **variables)
                scores = await graphql(client, rep, SCORES, **variables)
                return bool(commissions["commissions"]) and bool(scores["scores"])

            await eventually(paid_and_scored)
            await quiet()
    spans = list(exporter.get_finished_spans())

    (webhook,) = find(
        spans,
        lambda s: (
            s.kind is SpanKind.SERVER
            and s.name == "POST /v1/webhooks/{source_id}"
            and s.attributes is not None
            and s.attributes.get("http.response.status_code") == 202
        ),
    )
    trace_id = webhook.context.trace_id
    in_trace = find(spans, lambda s: s.context.trace_id == trace_id)
    by_id = {s.context.span_id: s for s in in_trace}
    consumers = [s for s in in_trace if s.kind is SpanKind.CONSUMER]
    scopes = {s.instrumentation_scope.name for s in consumers if s.instrumentation_scope}
    assert {"quotient.goals", "quotient.scoring", "quotient.incentives"} <= scopes, [
        (s.name, s.instrumentation_scope) for s in consumers
    ]

    def chain(span: ReadableSpan) -> list[str]:
        """Span names from this one up to the root, through parents in the same trace."""
        names = [span.name]
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            names.append(span.name)
        return names

    group = settings.topic
    for s in consumers:
        # Every consumer span descends from the webhook request, through the goals consumer
        # when it applied a derived event (progress), never detached.
        path = chain(s)
        assert path[-1] == webhook.name, path
    scoring = next(s for s in consumers if s.instrumentation_scope.name == "quotient.scoring")  # type: ignore[union-attr]
    assert chain(scoring) == [
        f"{group('scoring')} process",
        f"{group('goals')} process",
        webhook.name,
    ]
    incentives_direct = [
        s
        for s in consumers
        if s.instrumentation_scope.name == "quotient.incentives"  # type: ignore[union-attr]
        and chain(s) == [f"{group('incentives')} process", webhook.name]
    ]
    assert incentives_direct, "incentives applied the activity itself, as a child of the request"
    assert scoring.attributes is not None
    assert scoring.attributes["messaging.consumer.group.name"] == group("scoring")
    assert scoring.attributes["messaging.system"] == bus_kind
