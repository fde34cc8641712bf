"""After N events, the counters say N: scraped from /metrics of separate api and worker processes
(an api on its own port, a worker on its metrics port), over real Kafka and PostgreSQL."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.processes import Fleet
from tests.e2e.slice import post_events
from tests.helpers import (
    activity,
    create_tenant_and_source,
    eventually,
    signed,
)

N = 25

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient, url: str) -> Samples:
    r = await client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_after_n_events_the_counters_say_n(fleet: Fleet) -> None:
    t = fleet.settings.topic
    async with (
        httpx.AsyncClient(base_url=fleet.url("goals"), timeout=30) as goals,
        httpx.AsyncClient(timeout=10) as scraper,
    ):
        _, source = await create_tenant_and_source(goals, fleet.settings)
        events = [
            activity(f"pay-{i}", amount=f"{100 + i}.00", actor=f"p-{i % 4}") for i in range(N)
        ]
        await post_events(goals, source, events)
        await post_events(goals, source, events[:3])  # delivered again: duplicates
        body, headers = signed("not-the-secret", activity("forged"))
        r = await goals.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        assert r.status_code == 401
        body, headers = signed(source["secret"], {"id": "bad", "type": "payment_received"})
        r = await goals.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        assert r.status_code == 422

        api = await scrape(scraper, fleet.metrics_url("goals-api"))
        webhooks = {
            outcome: value(api, "quotient_webhooks_total", vendor="generic", outcome=outcome)
            for outcome in ("accepted", "duplicate", "refused", "quarantined")
        }
        assert webhooks == {"accepted": N, "duplicate": 3, "refused": 1, "quarantined": 1}
        route = "/v1/webhooks/{source_id}"
        latency = {
            status: value(
                api,
                "quotient_http_request_seconds_count",
                method="POST",
                route=route,
                status=status,
            )
            for status in ("202", "401", "422")
        }
        assert latency == {"202": N + 3, "401": 1, "422": 1}

        # The goals worker relays the accepted activities and applies them; incentives applies
        # them too. Every count is exactly N: duplicates never reach the bus.
        activities = t("crm.activities.v1")

        async def workers_counted() -> tuple[Samples, Samples]:
            g = await scrape(scraper, fleet.metrics_url("goals-worker"))
            i = await scrape(scraper, fleet.metrics_url("incentives-worker"))
            assert (
                value(g, "quotient_events_published_total", schema="goals", topic=activities) == N
            )
            assert (
                value(g, "quotient_events_consumed_total", group=t("goals"), topic=activities) == N
            )
            assert (
                value(i, "quotient_events_consumed_total", group=t("incentives"), topic=activities)
                == N
            )
            return g, i

        g, _ = await eventually(workers_counted, timeout=90)
        assert (
            value(g, "quotient_events_dead_lettered_total", group=t("goals"), topic=activities) == 0
        )
        # Recalculation latency: one observation per applied activity, each under a minute.
        count = value(g, "quotient_recalculation_seconds_count", service="goals", group=t("goals"))
        assert count == N
        under_a_minute = value(
            g, "quotient_recalculation_seconds_bucket", service="goals", group=t("goals"), le="60.0"
        )
        assert under_a_minute == N

        async def caught_up() -> bool:
            g = await scrape(scraper, fleet.metrics_url("goals-worker"))
            lags = [
                v
                for (name, labels), v in g.items()
                if name == "quotient_consumer_lag" and ("group", t("goals")) in labels
            ]
            assert lags and sum(lags) == 0, lags
            assert value(g, "quotient_outbox_backlog", schema="goals") == 0
            return True

        await eventually(caught_up, timeout=60)
        # The worker's listener also answers the orchestrator's probes.
        for path in ("/healthz", "/readyz"):
            url = fleet.metrics_url("goals-worker").replace("/metrics", path)
            assert (await scraper.get(url)).status_code == 200
