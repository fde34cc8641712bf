"""Live totals through the public API against PostgreSQL: each metric kind, corrections, a
person moving team, a closed period's late events, a non-UTC month boundary, and a replay from
the system of record that gives identical figures."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from allinone.app import create_app
from goals.models import messaging
from goals.totals.replay import rebuild
from shared.db.bootstrap import DatabaseUrls
from shared.db.uow import unit_of_work
from tests.e2e.slice import configure_org
from tests.helpers import (
    activity,
    auth,
    create_tenant_and_source,
    eventually,
    make_settings,
    running,
    signed,
)


def figures(rows: list[dict[str, Any]]) -> dict[str, Decimal | None]:
    return {r["metric"]: None if r["actual"] is None else Decimal(r["actual"]) for r in rows}


async def post(
    client: httpx.AsyncClient, source: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    body, headers = signed(source["secret"], events)
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 207, r.text
    assert all(o["status"] in ("accepted", "duplicate") for o in r.json()["results"]), r.json()


async def totals(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> dict[str, Decimal | None]:
    r = await client.get("/v1/totals", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return figures(r.json())


async def dump(database: DatabaseUrls, tenant: uuid.UUID) -> list[tuple[Any, ...]]:
    engine = create_async_engine(database.admin_url)
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT owner_kind, owner_id, metric, period_kind, period_start, value, event_count"
                " FROM goals.totals WHERE tenant_id = :t ORDER BY 1, 2, 3, 4, 5"
            ),
            {"t": tenant},
        )
        out = [tuple(r) for r in rows]
    await engine.dispose()
    return out


async def test_totals_for_every_metric_kind_with_corrections_moves_and_late_events(
    database: DatabaseUrls,
) -> None:
    settings = make_settings(database)
    app = create_app(settings)
    async with running(app) as client:
        tenant, source = await create_tenant_and_source(client, settings)  # Asia/Shanghai
        await configure_org(client, settings, tenant)  # p-2: West, then East A from 16 March
        admin = auth(settings, tenant, "admin")
        new = {"id": "c-1", "segment": "new"}
        await post(
            client,
            source,
            [
                activity(
                    "pay-1",
                    actor="p-1",
                    amount="1000.00",
                    occurred_at="2026-03-05T10:00:00+08:00",
                    customer=new,
                ),
                activity(
                    "pay-2", actor="p-2", amount="200.00", occurred_at="2026-03-10T10:00:00+08:00"
                ),
                activity(
                    "pay-3", actor="p-2", amount="300.00", occurred_at="2026-03-20T10:00:00+08:00"
                ),
                activity(
                    "ref-1",
                    type="refund",
                    actor="p-1",
                    amount="100.00",
                    occurred_at="2026-03-25T10:00:00+08:00",
                    refers_to="pay-1",
                    customer=new,
                ),
                # 23:30 on the last day of March in Shanghai is March; 00:30 on 1 April is not
                activity("pay-4", actor="p-1", amount="50.00", occurred_at="2026-03-31T15:30:00Z"),
                activity("pay-5", actor="p-1", amount="7.00", occurred_at="2026-03-31T16:30:00Z"),
                activity(
                    "v-1",
                    type="visit",
                    actor="p-1",
                    amount=None,
                    attributes={"duration_minutes": 45},
                ),
                activity(
                    "v-2",
                    type="visit",
                    actor="p-1",
                    amount=None,
                    attributes={"duration_minutes": 10},
                ),
                activity("won-1", type="deal_won", actor="p-1", amount=None, customer=new),
                activity("won-2", type="deal_won", actor="p-1", amount=None, customer=new),
                activity("o-1", type="order_booked", actor="p-1", amount="100.00"),
                activity("o-2", type="order_booked", actor="p-1", amount="300.00"),
                activity("inv-1", type="invoice_issued", actor="p-1", amount="2000.00"),
                # split credit: 60 / 40 between p-1 and p-2 (both in East A on 20 March)
                activity(
                    "pay-6",
                    actor="p-1",
                    amount="1000.00",
                    occurred_at="2026-03-20T11:00:00+08:00",
                    credit_split=[
                        {"actor_id": "p-1", "share": "0.6"},
                        {"actor_id": "p-2", "share": "0.4"},
                    ],
                ),
            ],
        )
        rep = auth(settings, tenant, "rep", subject="p-1")

        async def settled() -> dict[str, Decimal | None]:
            got = await totals(client, rep, person_id="p-1", month="2026-03")
            assert got.get("order_booked.count") == 2 and got.get("invoiced_revenue") == 2000, got
            return got

        p1 = await eventually(settled)
        assert p1["collected_revenue"] == Decimal("1000") - 100 + 50 + 600
        assert p1["new_customer_revenue"] == Decimal("900")  # pay-1 minus its refund
        assert (p1["visits"], p1["effective_visits"]) == (2, 1)
        assert p1["new_customers"] == 1  # c-1 won twice: one customer
        assert p1["average_order_value"] == 200
        assert p1["new_customer_conversion"] == Decimal("0.5")  # 1 new customer / 2 visits
        assert p1["collection_rate"] == Decimal(1550) / Decimal(2000)
        april = await totals(client, rep, person_id="p-1", month="2026-04")
        assert april["collected_revenue"] == 7
        # teams as of each event's day: p-2's 10 March payment is West's, 20 March East A's
        assert (await totals(client, admin, team_id="west", period="2026-03"))[
            "collected_revenue"
        ] == 200
        east_a = await totals(client, admin, team_id="east-a", period="2026-Q1")
        assert east_a["collected_revenue"] == Decimal(1550) + 300 + 400
        assert (await totals(client, admin, team_id="east", period="2026-Q1"))[
            "collected_revenue"
        ] == east_a["collected_revenue"]
        company = await totals(client, admin, company="true", period="2026")
        assert company["collected_revenue"] == Decimal(1550) + 200 + 300 + 400 + 7
        assert company["payment_received.count"] == 6
        week = await totals(client, admin, company="true", period="2026-W14")  # 30 March – 5 April
        assert week["collected_revenue"] == 57

        # corrections: an amount changed, a visit deleted, a correction before its original
        await post(
            client,
            source,
            [
                activity(
                    "fix-1",
                    type="record_updated",
                    actor="p-1",
                    amount=None,
                    refers_to="pay-1",
                    occurred_at="2026-04-02T10:00:00+08:00",
                    attributes={
                        "replacement": activity(
                            "pay-1",
                            actor="p-1",
                            amount="1200.00",
                            occurred_at="2026-03-05T10:00:00+08:00",
                            customer=new,
                        )
                    },
                ),
                activity(
                    "del-1",
                    type="record_deleted",
                    actor="p-1",
                    amount=None,
                    refers_to="v-2",
                    occurred_at="2026-04-02T10:00:00+08:00",
                ),
                activity(
                    "fix-2",
                    type="record_updated",
                    actor="p-1",
                    amount=None,
                    refers_to="pay-9",
                    occurred_at="2026-04-03T10:00:00+08:00",
                    attributes={
                        "replacement": activity(
                            "pay-9",
                            actor="p-1",
                            amount="90.00",
                            occurred_at="2026-03-06T10:00:00+08:00",
                        )
                    },
                ),
            ],
        )

        async def corrected() -> dict[str, Decimal | None]:
            got = await totals(client, rep, person_id="p-1", month="2026-03")
            assert got["collected_revenue"] == Decimal(1750), got
            return got

        p1 = await eventually(corrected)
        assert (p1["visits"], p1["effective_visits"]) == (1, 1)
        await post(
            client,
            source,
            [
                activity(
                    "pay-9", actor="p-1", amount="5.00", occurred_at="2026-03-06T10:00:00+08:00"
                )
            ],
        )

        async def original_arrived() -> bool:
            got = await totals(client, rep, person_id="p-1", month="2026-03")
            assert got["collected_revenue"] == Decimal(1840), got  # the corrected 90, not 5
            return True

        await eventually(original_arrived)

        # a closed period freezes: a late February event is recorded, not added to February
        assert (await client.post("/v1/periods/2026-02/close", headers=admin)).status_code == 200
        await post(
            client,
            source,
            [
                activity(
                    "late-1", actor="p-1", amount="10.00", occurred_at="2026-02-10T10:00:00+08:00"
                )
            ],
        )

        async def quarter_has_it() -> bool:
            got = await totals(client, rep, person_id="p-1", period="2026-Q1")
            assert got["collected_revenue"] == Decimal(1850), got
            return True

        await eventually(quarter_has_it)
        feb = await totals(client, rep, person_id="p-1", month="2026-02")
        assert "collected_revenue" not in feb
        r = await client.get("/v1/periods/2026-02/late", headers=admin)
        assert r.status_code == 200 and [x["activity_id"] for x in r.json()] == ["late-1"]

        # the system of record replays to identical figures
        before = await dump(database, tenant)
        runtime = app.state.runtime
        async with unit_of_work(runtime.sessions, messaging, settings.topic_prefix) as uow:
            await uow.set_tenant(tenant)
            done = await rebuild(uow, tenant)
        assert done.activities == 19
        assert await dump(database, tenant) == before

        # every figure explains itself: the events behind it, as corrected, and what each added
        r = await client.get(
            "/v1/totals/explain",
            params={"person_id": "p-1", "month": "2026-03", "metric": "collected_revenue"},
            headers=rep,
        )
        assert r.status_code == 200, r.text
        why = r.json()
        assert Decimal(why["actual"]) == 1840 and "refund" in why["formula"]
        lines = {line["activity_id"]: line for line in why["lines"]}
        assert (Decimal(lines["pay-1"]["value"]), lines["pay-1"]["corrected"]) == (1200, True)
        assert Decimal(lines["ref-1"]["value"]) == -100 and Decimal(lines["pay-6"]["value"]) == 600
        assert sum(Decimal(line["value"]) for line in why["lines"]) == 1840
        r = await client.get(
            "/v1/totals/explain",
            params={"team_id": "east-a", "period": "2026-Q1", "metric": "new_customers"},
            headers=admin,
        )
        assert Decimal(r.json()["actual"]) == 1 and {x["key"] for x in r.json()["lines"]} == {"c-1"}

        # a move recorded late (p-1 in West from 1 March) re-derives the teams' figures
        hr = auth(settings, tenant, "hr")
        r = await client.put(
            "/v1/org/memberships",
            json={"person_id": "p-1", "team_id": "west", "valid_from": "2026-03-01"},
            headers=hr,
        )
        assert r.status_code == 204
        west = await totals(client, admin, team_id="west", period="2026-03")
        assert (
            west["collected_revenue"] == Decimal(200) + 1840 - 600 + 600
        )  # p-1's March, p-2's West days
        company_after = await totals(client, admin, company="true", period="2026")
        assert company_after["collected_revenue"] == company["collected_revenue"] + 200 + 90 + 10
