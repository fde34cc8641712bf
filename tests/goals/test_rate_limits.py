"""Rate limits: per webhook source and per tenant on GraphQL, answered 429 with Retry-After."""

from __future__ import annotations

import uuid

from allinone.app import SERVICES
from shared.db.bootstrap import DatabaseUrls
from shared.http.ratelimit import RateLimiter
from shared.service import create_app
from tests.helpers import activity, auth, create_tenant_and_source, make_settings, running, signed


def test_bucket_refills_at_its_rate() -> None:
    limiter = RateLimiter(rate=2, burst=3)
    assert [limiter.retry_after("k", now=100.0) for _ in range(3)] == [0, 0, 0]
    assert limiter.retry_after("k", now=100.0) == 0.5
    assert limiter.retry_after("k", now=100.5) == 0  # one token back after 1/rate seconds
    assert limiter.retry_after("other", now=100.5) == 0  # keys are independent


async def test_webhooks_over_the_source_limit_get_429_and_are_not_stored(
    database: DatabaseUrls,
) -> None:
    settings = make_settings(database, webhook_rate_per_source=0.001, webhook_burst_per_source=3)
    async with running(create_app(settings, SERVICES, title="t")) as client:
        _tenant, source = await create_tenant_and_source(client, settings)
        statuses = []
        for i in range(5):
            body, headers = signed(source["secret"], activity(f"e{i}"))
            r = await client.post(
                f"/v1/webhooks/{source['source_id']}", content=body, headers=headers
            )
            statuses.append(r.status_code)
        assert statuses == [202, 202, 202, 429, 429]
        assert int(r.headers["retry-after"]) >= 1
        assert r.headers["content-type"] == "application/problem+json"
        # forged requests spend nothing
        body, headers = signed("wrong", activity("x"))
        assert (
            await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        ).status_code == 401


async def test_graphql_over_the_tenant_limit_gets_429(database: DatabaseUrls) -> None:
    settings = make_settings(database, graphql_rate_per_tenant=0.001, graphql_burst_per_tenant=2)
    async with running(create_app(settings, SERVICES, title="t")) as client:
        tenant, other = uuid.uuid4(), uuid.uuid4()
        query = {"query": '{ kpiTotals(personId: "p-1", month: "2026-03") { metric } }'}
        codes = [
            (
                await client.post("/graphql", json=query, headers=auth(settings, tenant, "admin"))
            ).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        assert (
            await client.post("/graphql", json=query, headers=auth(settings, other, "admin"))
        ).status_code == 200
