"""Tenancy is enforced by the database: every table of every service schema has row-level
security (enabled and forced) on tenant_id, and the application role scoped to tenant A neither
sees nor writes tenant B's rows. The walk reads the catalog, so a new table without RLS fails here."""

from __future__ import annotations

import base64
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from shared.periods import PeriodKind, period_of, previous
from tests.e2e.slice import configure, configure_org, post_events, slice_events
from tests.helpers import activity, auth, eventually, free_port, make_settings, running, signed

SCHEMAS = ("goals", "scoring", "incentives")
# Tables that hold no tenant data, each with the reason.
NOT_TENANT_DATA = {"consumer_offsets": "bus positions per partition, shared by all tenants"}


async def tables(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(
        text(
            """
            SELECT n.nspname AS schema, c.relname AS name, c.relrowsecurity AS rls,
                   c.relforcerowsecurity AS forced,
                   EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                           AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS has_tenant,
                   EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
                           AND p.polname = 'tenant_isolation') AS has_policy
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(:schemas)
              AND c.relname <> 'alembic_version'
            ORDER BY 1, 2
            """
        ),
        {"schemas": list(SCHEMAS)},
    )
    return [dict(r._mapping) for r in rows]


async def scoped(conn: AsyncConnection, tenant: uuid.UUID) -> None:
    await conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)})


async def fill_goals_tables(
    client: Any, settings: Any, tenant_id: uuid.UUID, source: dict[str, Any]
) -> None:
    """Rows in the goals tables the slice does not reach: people, goals and their versions,
    proposals, the catalog, a closed period with a late event, corrections, distinct keys."""
    admin = auth(settings, tenant_id, "admin")
    person = {"name": "Ann", "role": "new_business_rep", "team_id": "east-a"}
    assert (await client.put("/v1/org/people/p-1", json=person, headers=admin)).status_code == 200
    goal = {"metric": "collected_revenue", "owner_kind": "person", "owner_id": "p-1"}
    r = await client.post(
        "/v1/goals", json=goal | {"period": "2026-Q2", "target": "100"}, headers=admin
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/v1/goals/{r.json()['goal_id']}/proposals",
        json={"target": "120", "reason": "x"},
        headers=auth(settings, tenant_id, "rep", subject="p-1"),
    )
    assert r.status_code == 201, r.text
    metric = {"name": "x", "kind": "count", "event_types": ["visit"]}
    assert (await client.put("/v1/metrics/mine", json=metric, headers=admin)).status_code == 200
    assert (await client.post("/v1/templates/sales_team/copy", headers=admin)).status_code == 201
    assert (await client.post("/v1/periods/2026-01/close", headers=admin)).status_code == 200
    new = {"id": "c-1", "segment": "new"}
    events = [
        activity("late-1", occurred_at="2026-01-05T10:00:00+08:00"),
        activity("won-1", type="deal_won", amount=None, customer=new),
        activity(
            "fix-1",
            type="record_deleted",
            amount=None,
            refers_to="not-yet",
            occurred_at="2026-03-06T10:00:00+08:00",
        ),
    ]
    body, headers = signed(source["secret"], events)
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 207, r.text
    # ingest: an alias, a rotated secret, a backfill, a HubSpot object's remembered state
    sid = source["source_id"]
    r = await client.put(
        f"/v1/sources/{sid}/aliases/crm-1", json={"person_id": "p-1"}, headers=admin
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/sources/{sid}/rotate", json={"grace_seconds": 60}, headers=admin)
    assert r.status_code == 200
    source["secret"] = r.json()["secret"]
    line = json.dumps(activity("bf-1", occurred_at="2026-03-07T10:00:00+08:00")).encode()
    r = await client.post(
        f"/v1/sources/{sid}/backfill",
        content=line,
        headers=admin | {"content-type": "application/x-ndjson"},
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    r = await client.post(
        "/v1/sources",
        json={"kind": "hubspot", "name": "hs", "secret": "hubspot-secret-1"},
        headers=admin,
    )
    hubspot = r.json()
    item = [
        {
            "eventId": 1,
            "subscriptionId": 2,
            "portalId": 3,
            "occurredAt": 1772620700000,
            "subscriptionType": "deal.propertyChange",
            "objectId": 9001,
            "propertyName": "hubspot_owner_id",
            "propertyValue": "501",
        }
    ]
    raw = json.dumps(item).encode()
    path = f"/v1/webhooks/{hubspot['source_id']}"
    stamp = str(int(time.time() * 1000))
    uri = f"{settings.public_base_url.rstrip('/')}{path}"
    mac = hmac.new(b"hubspot-secret-1", b"POST" + uri.encode() + raw + stamp.encode(), "sha256")
    headers = {
        "x-hubspot-signature-v3": base64.b64encode(mac.digest()).decode(),
        "x-hubspot-request-timestamp": stamp,
    }
    r = await client.post(path, content=raw, headers=headers)
    assert r.status_code == 207, r.text
    await fill_alert_tables(client, settings, tenant_id, source)
    await fill_scoring_tables(client, settings, tenant_id)
    await fill_pay_tables(client, settings, tenant_id, source)


async def fill_pay_tables(
    client: Any, settings: Any, tenant_id: uuid.UUID, source: dict[str, Any]
) -> None:
    """A plan, its assignment and acceptance, a quota, and a prepared statement (credits come
    from the slice's payments)."""
    finance = auth(settings, tenant_id, "finance")
    plan = {
        "name": "p",
        "effective_from": "2026-01-01",
        "components": [{"type": "tiered", "tiers": [{"from": "0", "rate": "0.03"}]}],
    }
    r = await client.put("/v1/plans/std", json=plan, headers=finance)
    assert r.status_code == 201, r.text
    plan_id = r.json()["plan_id"]
    body = {"person_ids": ["p-1"], "valid_from": "2026-01-01"}
    assert (
        await client.post("/v1/plans/std/assign", json=body, headers=finance)
    ).status_code == 204
    rep = auth(settings, tenant_id, "rep", subject="p-1")
    assert (await client.post(f"/v1/plans/{plan_id}/accept", headers=rep)).status_code == 201

    async def quota() -> bool:
        r = await client.get(
            "/v1/statements", params={"person_id": "p-1", "period": "2026-03"}, headers=finance
        )
        return r.status_code == 200 and r.json()["quota"] is not None

    await eventually(quota)
    r = await client.post(
        "/v1/statements/prepare", json={"person_id": "p-1", "period": "2026-03"}, headers=finance
    )
    assert r.status_code == 201, r.text
    # rates, surveys, team figures and a pool, a pay appeal
    rate = {"currency": "USD", "rate": "7.2", "valid_from": "2026-01-01"}
    assert (await client.put("/v1/fx-rates", json=rate, headers=finance)).status_code == 204
    goal = {
        "metric": "collected_revenue",
        "owner_kind": "team",
        "owner_id": "east",
        "period": "2026-05",
        "target": "100",
    }
    assert (
        await client.post("/v1/goals", json=goal, headers=auth(settings, tenant_id, "admin"))
    ).status_code == 200
    survey = activity(
        "nps-1",
        type="survey_response",
        amount=None,
        occurred_at="2026-05-02T10:00:00+08:00",
        attributes={"kind": "nps", "score": 9},
    )
    pay = activity("may-1", amount="10.00", occurred_at="2026-05-02T10:00:00+08:00")
    body, headers = signed(source["secret"], [survey, pay])
    assert (
        await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    ).status_code == 207

    async def pool() -> bool:
        r = await client.post(
            "/v1/team-pools", json={"period": "2026-05", "amount": "100"}, headers=finance
        )
        return r.status_code == 201

    await eventually(pool)
    # a CRM correction of that payment (the correction in force and what it credits)
    fix = activity(
        "may-1-fix",
        type="record_updated",
        amount=None,
        refers_to="may-1",
        occurred_at="2026-05-03T10:00:00+08:00",
        attributes={
            "replacement": activity(
                "may-1", amount="12.00", occurred_at="2026-05-02T10:00:00+08:00"
            )
        },
    )
    body, headers = signed(source["secret"], fix)
    assert (
        await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    ).status_code == 202

    async def corrected() -> bool:
        r = await client.get(
            "/v1/statements", params={"person_id": "p-1", "period": "2026-05"}, headers=finance
        )
        return r.status_code == 200 and r.json()["base"] == "12.00"

    await eventually(corrected)
    appeal = {"period": "2026-03", "component": "commission", "reason": "x"}
    assert (await client.post("/v1/pay-appeals", json=appeal, headers=rep)).status_code == 201


async def fill_scoring_tables(client: Any, settings: Any, tenant_id: uuid.UUID) -> None:
    """A scorecard with a manual item and a 360° rating, closed with forced distribution on, then
    appealed and reported on."""
    hr = auth(settings, tenant_id, "hr")
    template = {
        "name": "t",
        "items": [
            {"key": "m", "name": "M", "source": "manual", "weight": 50},
            {"key": "q", "name": "Q", "kind": "qualitative", "weight": 50},
        ],
    }
    assert (
        await client.put("/v1/scorecard-templates/t", json=template, headers=hr)
    ).status_code == 200
    bands = [
        {"grade": g, "lower": b}
        for g, b in (("S", "90"), ("A", "80"), ("B", "70"), ("C", "60"), ("D", "0"))
    ]
    r = await client.put(
        "/v1/grading", json={"bands": bands, "forced_distribution": True}, headers=hr
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/v1/scorecards",
        json={"template": "t", "period": "2026-06", "person_ids": ["p-1"]},
        headers=hr,
    )
    card = r.json()[0]["scorecard_id"]
    r = await client.put(
        f"/v1/scorecards/{card}/items/m", json={"actual": "1", "target": "1"}, headers=hr
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/v1/scorecards/{card}/reviews",
        json={"raters": [{"rater_id": "m-1", "group": "manager"}]},
        headers=hr,
    )
    assert r.status_code == 201
    r = await client.post(
        f"/v1/scorecards/{card}/ratings",
        json={"ratings": [{"item_key": "q", "score": 80}]},
        headers=auth(settings, tenant_id, "manager", subject="m-1"),
    )
    assert r.status_code == 200, r.text
    assert (await client.post("/v1/periods/2026-06/close", headers=hr)).status_code == 200

    async def final() -> bool:
        r = await client.get("/v1/calibrations", params={"period": "2026-06"}, headers=hr)
        return bool(r.json())

    await eventually(final)
    r = await client.get("/v1/calibrations", params={"period": "2026-06"}, headers=hr)
    for calibration in r.json():
        grades = {"p-1": "S"}
        url = f"/v1/calibrations/{calibration['calibration_id']}/approve"
        assert (await client.post(url, json={"grades": grades}, headers=hr)).status_code == 200
    rep = auth(settings, tenant_id, "rep", subject="p-1")
    r = await client.post(
        "/v1/appeals", json={"scorecard_id": card, "item_key": "q", "reason": "x"}, headers=rep
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/v1/scorecards/{card}/report",
        json={"manager_id": "m-1", "delivered_on": "2026-07-01"},
        headers=hr,
    )
    assert r.status_code == 201, r.text


async def fill_alert_tables(
    client: Any, settings: Any, tenant_id: uuid.UUID, source: dict[str, Any]
) -> None:
    """Alert settings, a channel (nobody listening: attempts recorded), and a spike whose alert
    asks for evidence."""
    admin = auth(settings, tenant_id, "admin")
    r = await client.put("/v1/alerts/settings", json={"locale": "en"}, headers=admin)
    assert r.status_code == 200, r.text
    channel = {"kind": "slack", "url": f"http://127.0.0.1:{free_port()}/nobody"}
    assert (
        await client.post("/v1/alerts/channels", json=channel, headers=admin)
    ).status_code == 201
    last = previous(period_of(PeriodKind.MONTH, datetime.now(UTC).date()))
    before = previous(last)
    events = [
        activity(f"spike-{p.label}", amount=amount, occurred_at=f"{p.start}T10:00:00+08:00")
        | {"recorded_at": f"{p.start}T10:00:00+08:00"}
        for p, amount in ((before, "100.00"), (last, "300.00"))
    ]
    body, headers = signed(source["secret"], events)
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 207, r.text

    async def spike() -> list[dict[str, Any]]:
        r = await client.get(
            "/v1/alerts", params={"rule": "spike_drop", "person_id": "p-1"}, headers=admin
        )
        return list(r.json())

    (alert,) = await eventually(spike)
    rep = auth(settings, tenant_id, "rep", subject="p-1")
    r = await client.post(
        f"/v1/alerts/{alert['alert_id']}/evidence", json={"text": "big order"}, headers=rep
    )
    assert r.status_code == 201, r.text


@pytest.fixture
async def two_tenants(database: DatabaseUrls) -> tuple[uuid.UUID, uuid.UUID]:
    """Run the vertical slice for two tenants so that every table holds rows of both."""
    settings = make_settings(
        database, outbound_allow_private=True, alert_sweep_seconds=0.3, outbound_backoff_scale=0.01
    )
    async with running(create_app(settings)) as client:
        clients = {"goals": client, "scoring": client, "incentives": client}
        tenants = []
        for _ in range(2):
            tenant_id, source = await configure(clients, settings)
            await configure_org(client, settings, tenant_id)
            erased = await client.post(
                "/v1/people/p-9/erase", headers=auth(settings, tenant_id, "hr")
            )
            assert erased.status_code == 200
            await post_events(client, source, slice_events())
            body, headers = signed(source["secret"], b"{broken")
            r = await client.post(
                f"/v1/webhooks/{source['source_id']}", content=body, headers=headers
            )
            assert r.status_code == 422
            await fill_goals_tables(client, settings, tenant_id, source)
            tenants.append(tenant_id)
        admin = create_async_engine(database.admin_url)

        async def settled() -> bool:
            async with admin.connect() as conn:
                n = (
                    await conn.execute(
                        text("SELECT count(DISTINCT tenant_id) FROM incentives.commission_totals")
                    )
                ).scalar_one()
                scores = (
                    await conn.execute(text("SELECT count(DISTINCT tenant_id) FROM scoring.scores"))
                ).scalar_one()
                teams = (
                    await conn.execute(
                        text("SELECT count(DISTINCT tenant_id) FROM incentives.teams")
                    )
                ).scalar_one()
                late = (
                    await conn.execute(
                        text("SELECT count(DISTINCT tenant_id) FROM goals.late_activities")
                    )
                ).scalar_one()
                graded = (
                    await conn.execute(
                        text("SELECT count(DISTINCT tenant_id) FROM incentives.final_grades")
                    )
                ).scalar_one()
                attempts = (
                    await conn.execute(
                        text("SELECT count(DISTINCT tenant_id) FROM goals.delivery_attempts")
                    )
                ).scalar_one()
            return (
                n == 2
                and scores == 2
                and teams == 2
                and late == 2
                and attempts == 2
                and graded == 2
            )

        await eventually(settled)
        await admin.dispose()
    return tenants[0], tenants[1]


async def test_every_table_has_forced_row_level_security_on_tenant_id(
    database: DatabaseUrls,
) -> None:
    engine = create_async_engine(database.admin_url)
    async with engine.connect() as conn:
        found = await tables(conn)
    await engine.dispose()
    assert len(found) >= 15
    unprotected = [
        f"{t['schema']}.{t['name']}"
        for t in found
        if t["name"] not in NOT_TENANT_DATA
        and not (t["rls"] and t["forced"] and t["has_tenant"] and t["has_policy"])
    ]
    assert unprotected == []


async def test_tenant_a_neither_sees_nor_writes_tenant_b(
    database: DatabaseUrls, two_tenants: tuple[uuid.UUID, uuid.UUID]
) -> None:
    a, b = two_tenants
    admin = create_async_engine(database.admin_url)
    app = create_async_engine(database.app_url)
    checked_writes = []
    try:
        async with admin.connect() as conn:
            found = [t for t in await tables(conn) if t["name"] not in NOT_TENANT_DATA]
        for t in found:
            name = f"{t['schema']}.{t['name']}"
            async with admin.connect() as conn:
                mine, theirs = (
                    await conn.execute(
                        text(
                            f"SELECT count(*) FILTER (WHERE tenant_id = :a), "
                            f"count(*) FILTER (WHERE tenant_id = :b) FROM {name}"
                        ),
                        {"a": a, "b": b},
                    )
                ).one()
            async with app.connect() as conn:
                # No tenant set: nothing at all.
                assert (
                    await conn.execute(text(f"SELECT count(*) FROM {name}"))
                ).scalar_one() == 0, name
            async with app.begin() as conn:
                await scoped(conn, a)
                seen = (await conn.execute(text(f"SELECT count(*) FROM {name}"))).scalar_one()
                assert seen == mine, (name, seen, mine)
                hidden = await conn.execute(
                    text(f"SELECT count(*) FROM {name} WHERE tenant_id = :b"), {"b": b}
                )
                assert hidden.scalar_one() == 0, name
                moved = await conn.execute(
                    text(f"UPDATE {name} SET tenant_id = tenant_id WHERE tenant_id = :b"), {"b": b}
                )
                assert moved.rowcount == 0, name
                gone = await conn.execute(
                    text(f"DELETE FROM {name} WHERE tenant_id = :b"), {"b": b}
                )
                assert gone.rowcount == 0, name
                await conn.rollback()
            if mine:
                # Copy one of A's rows as B's: the policy's WITH CHECK refuses it.
                async with app.begin() as conn:
                    await scoped(conn, a)
                    with pytest.raises(DBAPIError, match="row-level security"):
                        await conn.execute(
                            text(
                                f"INSERT INTO {name} SELECT (jsonb_populate_record(NULL::{name}, "
                                f"to_jsonb(r) || jsonb_build_object('tenant_id', CAST(:b AS text)))).* "
                                f"FROM {name} r LIMIT 1"
                            ),
                            {"b": str(b)},
                        )
                checked_writes.append(name)
            if t["name"] not in ("outbox",):
                assert theirs > 0 or mine == 0, f"{name}: the fixture left no rows of tenant B"
        # The slice fills every tenant table but the outbox (relayed and emptied).
        assert len(checked_writes) >= len(found) - 3, sorted(
            set(f"{t['schema']}.{t['name']}" for t in found) - set(checked_writes)
        )
    finally:
        await admin.dispose()
        await app.dispose()
