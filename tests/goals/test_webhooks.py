"""The generic signed webhook: authentication, validation, quarantine, idempotency."""

from __future__ import annotations

import json
import math
import time

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from goals.app import create_app
from shared.db.bootstrap import DatabaseUrls
from tests.helpers import activity, auth, create_tenant_and_source, make_settings, running, signed


async def count(urls: DatabaseUrls, sql: str) -> int:
    engine = create_async_engine(urls.admin_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def stored(urls: DatabaseUrls) -> tuple[int, int, int]:
    return (
        await count(urls, "SELECT count(*) FROM goals.activities"),
        await count(urls, "SELECT count(*) FROM goals.outbox"),
        await count(urls, "SELECT count(*) FROM goals.quarantine"),
    )


@pytest.fixture
async def ctx(database: DatabaseUrls):
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant_id, source = await create_tenant_and_source(client, settings)
        yield client, settings, tenant_id, source, database


async def test_accepts_a_signed_event_and_queues_it_on_the_outbox(ctx) -> None:
    client, _settings, _tenant, source, urls = ctx
    body, headers = signed(source["secret"], activity("evt-1", amount="120000.00"))
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "accepted"
    assert await stored(urls) == (1, 1, 0)
    engine = create_async_engine(urls.admin_url)
    async with engine.connect() as conn:
        topic, value = (await conn.execute(text("SELECT topic, value FROM goals.outbox"))).one()
    await engine.dispose()
    event = json.loads(bytes(value))
    assert topic.endswith("crm.activities.v1")
    assert event["type"] == "activity.recorded"
    assert event["payload"]["activity"]["amount"] == {"value": "120000.00", "currency": "CNY"}
    assert event["id"] == r.json()["event_id"]


async def test_same_event_twice_is_stored_once(ctx) -> None:
    client, _settings, _tenant, source, urls = ctx
    for _ in range(3):
        body, headers = signed(source["secret"], activity("evt-dup"))
        r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        assert r.status_code == 202
    assert r.json()["status"] == "duplicate"
    assert await stored(urls) == (1, 1, 0)


async def test_same_id_with_different_content_is_a_conflict_and_quarantined(ctx) -> None:
    client, _settings, _tenant, source, urls = ctx
    body, headers = signed(source["secret"], activity("evt-c", amount="10.00"))
    assert (
        await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    ).status_code == 202
    body, headers = signed(source["secret"], activity("evt-c", amount="11.00"))
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["quarantine_id"]
    assert await stored(urls) == (1, 1, 1)


@pytest.mark.parametrize("skew", [-301, 301])
async def test_stale_or_future_timestamp_is_refused_and_not_stored(ctx, skew: int) -> None:
    client, _settings, _tenant, source, urls = ctx
    # Whole seconds on the wire: round away from now so the skew is at least 301 s at the server.
    moment = math.ceil(time.time()) + skew if skew > 0 else math.floor(time.time()) + skew
    body, headers = signed(source["secret"], activity("evt-old"), now=moment)
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert await stored(urls) == (0, 0, 0)


async def test_bad_signature_is_refused_and_not_stored(ctx) -> None:
    client, _settings, _tenant, source, urls = ctx
    body, headers = signed("not-the-secret", activity("evt-x"))
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 401
    # tampered body: signed one thing, sent another
    body, headers = signed(source["secret"], activity("evt-x"))
    r = await client.post(
        f"/v1/webhooks/{source['source_id']}",
        content=body.replace(b"100.00", b"900.00"),
        headers=headers,
    )
    assert r.status_code == 401
    # no signature at all
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body)
    assert r.status_code == 401
    assert await stored(urls) == (0, 0, 0)


async def test_rotation_header_with_several_signatures_verifies(ctx) -> None:
    client, _settings, _tenant, source, _urls = ctx
    body, headers = signed(source["secret"], activity("evt-rot"))
    headers["X-Quotient-Signature"] = "v1=" + "0" * 64 + ", " + headers["X-Quotient-Signature"]
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 202


async def test_malformed_body_is_422_and_quarantined(ctx) -> None:
    client, _settings, _tenant, source, urls = ctx
    body, headers = signed(source["secret"], b'{"id": "evt-1", "type": ')
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["errors"][0]["field"] == "body"
    assert await stored(urls) == (0, 0, 1)
    r = await client.get("/v1/quarantine", headers=auth(ctx[1], ctx[2], "admin"))
    assert r.status_code == 200
    (row,) = r.json()
    assert row["reason"] == "malformed_json"
    assert row["body"] == '{"id": "evt-1", "type": '


async def test_invalid_field_is_named_and_quarantined(ctx) -> None:
    client, _settings, _tenant, source, urls = ctx
    event = activity("evt-f")
    event["amount"] = {"value": 100.5, "currency": "CNY"}  # a float, not a decimal string
    body, headers = signed(source["secret"], event)
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["amount.value"]
    assert await stored(urls) == (0, 0, 1)


async def test_batch_answers_207_per_event(ctx) -> None:
    client, _settings, _tenant, source, urls = ctx
    events = [activity("b-1"), {"id": "b-2", "type": "visit"}, activity("b-3"), activity("b-1")]
    body, headers = signed(source["secret"], events)
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 207
    result = r.json()
    assert [o["status"] for o in result["results"]] == [
        "accepted",
        "invalid",
        "accepted",
        "duplicate",
    ]
    assert {e["field"] for e in result["results"][1]["errors"]} == {"occurred_at", "actor_id"}
    assert (result["accepted"], result["duplicates"], result["quarantined"]) == (2, 1, 1)
    assert await stored(urls) == (2, 2, 1)


async def test_unknown_source_is_404_problem(ctx) -> None:
    client, *_ = ctx
    body, headers = signed("x", activity("e"))
    r = await client.post(
        "/v1/webhooks/00000000-0000-0000-0000-000000000000", content=body, headers=headers
    )
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


async def test_oversized_body_is_413(ctx) -> None:
    client, settings, _tenant, source, _urls = ctx
    body, headers = signed(
        source["secret"], b"[" + b" " * (settings.webhook_max_body_bytes + 1) + b"]"
    )
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 413


async def test_activity_schema_is_served(ctx) -> None:
    client, *_ = ctx
    r = await client.get("/v1/schemas/activity")
    assert r.status_code == 200
    schema = r.json()
    assert {"id", "type", "occurred_at", "actor_id"} <= set(schema["required"])
