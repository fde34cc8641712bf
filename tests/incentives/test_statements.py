"""Statements through the public API: the §4 examples to the cent from webhook payments and the
goal's quota (marginal 43,000; retroactive 65,000; over-achievement 3,000), what-if without
writing, maker–checker approval, payroll export."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from tests.helpers import (
    activity,
    auth,
    create_tenant_and_source,
    eventually,
    graphql,
    make_settings,
    running,
    signed,
)

TIERS = [
    {"from": "0", "rate": "0.03"},
    {"from": "1", "rate": "0.04"},
    {"from": "1.2", "rate": "0.05"},
]


def plan(mode: str) -> dict[str, Any]:
    return {
        "name": f"Sales {mode}",
        "effective_from": "2026-01-01",
        "components": [
            {"type": "tiered", "mode": mode, "tiers": TIERS, "name": "commission"},
            {
                "type": "over_achievement",
                "above": "1.2",
                "rate": "0.01",
                "name": "over-achievement",
            },
            {
                "type": "fixed_bonus",
                "amount": "1000",
                "grade_adjusted": True,
                "name": "target bonus",
            },
        ],
    }


async def statement(
    client: httpx.AsyncClient, headers: dict[str, str], person: str
) -> dict[str, Any]:
    r = await client.get(
        "/v1/statements", params={"person_id": person, "period": "2026-03"}, headers=headers
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_statements_pay_the_spec_examples(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        admin = auth(settings, tenant, "admin", subject="a-1")
        finance = auth(settings, tenant, "finance", subject="f-1")
        bad = plan("marginal")
        bad["components"][0]["tiers"] = [
            {"from": "0", "rate": "0.03"},
            {"from": "0", "rate": "0.04"},
        ]
        r = await client.put("/v1/plans/standard", json=bad, headers=finance)
        assert r.status_code == 422 and "components" in r.json()["errors"][0]["field"], r.text
        assert (
            await client.put("/v1/plans/standard", json=plan("marginal"), headers=finance)
        ).status_code == 201
        assert (
            await client.put("/v1/plans/retro", json=plan("retroactive"), headers=finance)
        ).status_code == 201
        for key, person in (("standard", "p-1"), ("retro", "p-2")):
            r = await client.post(
                f"/v1/plans/{key}/assign",
                json={"person_ids": [person], "valid_from": "2026-01-01"},
                headers=finance,
            )
            assert r.status_code == 204, r.text
            goal = {
                "metric": "collected_revenue",
                "owner_kind": "person",
                "owner_id": person,
                "period": "2026-03",
                "target": "1000000",
            }
            assert (await client.post("/v1/goals", json=goal, headers=admin)).status_code == 200
        events = []
        for person in ("p-1", "p-2"):
            events += [
                activity(
                    f"{person}-a",
                    actor=person,
                    amount="800000.00",
                    customer={"id": "c-1", "segment": "new"},
                ),
                activity(
                    f"{person}-b",
                    actor=person,
                    amount="500000.00",
                    occurred_at="2026-03-20T10:00:00+08:00",
                ),
                activity(
                    f"{person}-c", actor=person, type="order_booked", amount="999999.00"
                ),  # never counts
            ]
        body, headers = signed(source["secret"], events)
        assert (
            await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        ).status_code == 207
        rep = auth(settings, tenant, "rep", subject="p-1")

        async def ready() -> dict[str, Any]:
            st = await statement(client, rep, "p-1")
            assert st["base"] == "1300000.00" and st["quota"] is not None, st
            return st

        st = await eventually(ready)
        lines = {line["component"]: line for line in st["lines"]}
        assert lines["commission"]["amount"] == "43000.00"  # 30,000 + 8,000 + 5,000
        assert [b["commission"] for b in lines["commission"]["explanation"]["bands"]] == [
            "30000.00",
            "8000.00",
            "5000.00",
        ]
        assert lines["over-achievement"]["amount"] == "3000.00"
        assert lines["target bonus"]["amount"] is None  # grade-adjusted: waits for the final grade
        assert st["total"] == "46000.00"

        async def retro() -> bool:
            st2 = await statement(client, admin, "p-2")
            return {line["component"]: line["amount"] for line in st2["lines"]}[
                "commission"
            ] == "65000.00"

        await eventually(retro)
        assert (
            await client.get(
                "/v1/statements", params={"person_id": "p-2", "period": "2026-03"}, headers=rep
            )
        ).status_code == 403

        # each payment re-announced the person's pay on incentives.payouts.v1, with the plan's total
        engine = create_async_engine(database.admin_url)

        async def announced() -> bool:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text("SELECT value FROM bus.log WHERE topic = :t"),
                    {"t": settings.topic("incentives.payouts.v1")},
                )
                pay = [json.loads(r.value) for r in rows]
            return any(
                e["payload"].get("plan") == "standard"
                and e["payload"]["commission_total"] == "46000.00"
                for e in pay
            )

        await eventually(announced)
        await engine.dispose()

        # what-if: one more 50,000 collected → 2,500 at 5 % and 500 more over-achievement
        r = await client.post(
            "/v1/what-if",
            json={
                "person_id": "p-1",
                "period": "2026-03",
                "events": [{"amount": "50000", "segment": "new"}],
            },
            headers=rep,
        )
        assert r.status_code == 200, r.text
        assert (r.json()["difference"], r.json()["what_if"]["total"]) == ("3000.00", "49000.00")
        assert (await statement(client, rep, "p-1"))["total"] == "46000.00"  # nothing written

        # maker–checker: prepared by finance, approved by someone else, then locked
        r = await client.post(
            "/v1/statements/prepare",
            json={"person_id": "p-1", "period": "2026-03"},
            headers=finance,
        )
        assert r.status_code == 201 and r.json()["status"] == "draft", r.text
        sid = r.json()["statement_id"]
        assert (await client.post(f"/v1/statements/{sid}/paid", headers=admin)).status_code == 409
        assert (
            await client.post(f"/v1/statements/{sid}/approve", headers=finance)
        ).status_code == 403
        r = await client.post(f"/v1/statements/{sid}/approve", headers=admin)
        assert r.status_code == 200 and r.json()["status"] == "approved"
        r = await client.post(
            "/v1/statements/prepare",
            json={"person_id": "p-1", "period": "2026-03"},
            headers=finance,
        )
        assert r.status_code == 409
        assert (await client.post(f"/v1/statements/{sid}/paid", headers=finance)).json()[
            "status"
        ] == "paid"
        r = await client.get("/v1/statements/export", params={"period": "2026-03"}, headers=finance)
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] == [
            "person_id",
            "person_name",
            "team_id",
            "team_name",
            "period",
            "status",
            "component",
            "amount",
            "currency",
            "statement_total",
        ]
        assert rows[1][:1] + rows[1][4:8] == ["p-1", "2026-03", "paid", "commission", "43000.00"]
        r = await client.get(
            "/v1/statements/export", params={"period": "2026-03", "format": "xlsx"}, headers=finance
        )
        sheet = load_workbook(io.BytesIO(r.content)).active
        assert sheet is not None and Decimal(str(sheet["H2"].value)) == Decimal("43000")
        # clawback: a refund in April of a March payment; March is locked (paid) and stays as it
        # was; the difference lands in April as a prior-period adjustment pointing at March
        refund = activity(
            "p-1-r",
            actor="p-1",
            type="refund",
            amount="300000.00",
            refers_to="p-1-a",
            occurred_at="2026-04-10T10:00:00+08:00",
        )
        body, headers = signed(source["secret"], [refund])
        assert (
            await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        ).status_code == 207

        async def adjusted() -> dict[str, Any]:
            r = await client.get(
                "/v1/statements", params={"person_id": "p-1", "period": "2026-04"}, headers=rep
            )
            lines = [x for x in r.json()["lines"] if x["type"] == "adjustment"]
            assert lines, r.json()
            return lines[0]

        line = await eventually(adjusted)
        # March again with the refund: base 1,000,000 → 30,000 and no over-achievement: 16,000 less
        assert (line["amount"], line["explanation"]["original_statement"]) == ("-16000.00", sid)
        assert (line["explanation"]["original_total"], line["explanation"]["recomputed_total"]) == (
            "46000.00",
            "30000.00",
        )
        march = await statement(client, rep, "p-1")
        assert (march["status"], march["total"]) == ("paid", "46000.00")  # never mutated

        # acknowledging the plan version
        plan_id = (await statement(client, admin, "p-2"))["plan"]["plan_id"]
        r = await client.post(
            f"/v1/plans/{plan_id}/accept", headers=auth(settings, tenant, "rep", subject="p-2")
        )
        assert r.status_code == 201 and r.json()["version"] == 1


async def test_a_final_grade_adjusts_the_bonus_never_the_commission(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        admin = auth(settings, tenant, "admin")
        finance = auth(settings, tenant, "finance")
        hr = auth(settings, tenant, "hr")
        assert (
            await client.put("/v1/plans/retro", json=plan("retroactive"), headers=finance)
        ).status_code == 201
        body = {"person_ids": ["p-2"], "valid_from": "2026-01-01"}
        assert (
            await client.post("/v1/plans/retro/assign", json=body, headers=finance)
        ).status_code == 204
        goal = {
            "metric": "collected_revenue",
            "owner_kind": "person",
            "owner_id": "p-2",
            "period": "2026-03",
            "target": "1000000",
        }
        assert (await client.post("/v1/goals", json=goal, headers=admin)).status_code == 200
        body, headers = signed(
            source["secret"], [activity("x-1", actor="p-2", amount="1300000.00")]
        )
        assert (
            await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        ).status_code == 207
        manual = {
            "name": "m",
            "items": [{"key": "r", "name": "R", "source": "manual", "weight": 100}],
        }
        assert (
            await client.put("/v1/scorecard-templates/m", json=manual, headers=hr)
        ).status_code == 200
        r = await client.post(
            "/v1/scorecards",
            json={"template": "m", "period": "2026-03", "person_ids": ["p-2"]},
            headers=hr,
        )
        card = r.json()[0]["scorecard_id"]
        r = await client.put(
            f"/v1/scorecards/{card}/items/r", json={"actual": "95", "target": "100"}, headers=hr
        )
        assert r.json()["grade"] == "S"

        async def commission() -> dict[str, Any]:
            st = await statement(client, admin, "p-2")
            lines = {line["component"]: line for line in st["lines"]}
            assert lines["commission"]["amount"] == "65000.00", st
            return lines

        lines = await eventually(commission)
        assert lines["target bonus"]["amount"] is None  # provisional grade: not yet
        assert (await client.post("/v1/periods/2026-03/close", headers=admin)).status_code == 200

        async def graded() -> dict[str, Any]:
            st = await statement(client, admin, "p-2")
            lines = {line["component"]: line for line in st["lines"]}
            assert lines["target bonus"]["amount"] == "1500.00", st  # 1,000 × S 1.5
            return st

        st = await eventually(graded)
        lines = {line["component"]: line for line in st["lines"]}
        assert lines["commission"]["amount"] == "65000.00"  # commission is never grade-adjusted
        assert lines["target bonus"]["explanation"]["coefficient"] == "1.5"
        assert st["total"] == "69500.00"  # 65,000 + 3,000 + 1,500


async def test_payments_reach_the_statement_over_the_real_bus(
    database: DatabaseUrls, bus_kind: str, request: pytest.FixtureRequest
) -> None:
    """Webhooks with payments → goals (quota) and incentives (credits) → statement lines through
    GraphQL, over the embedded bus and over Kafka."""
    kafka = request.getfixturevalue("kafka_bootstrap") if bus_kind == "kafka" else None
    settings = make_settings(database, kafka=kafka)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        admin = auth(settings, tenant, "admin")
        finance = auth(settings, tenant, "finance")
        assert (
            await client.put("/v1/plans/standard", json=plan("marginal"), headers=finance)
        ).status_code == 201
        body = {"person_ids": ["p-1"], "valid_from": "2026-01-01"}
        assert (
            await client.post("/v1/plans/standard/assign", json=body, headers=finance)
        ).status_code == 204
        goal = {
            "metric": "collected_revenue",
            "owner_kind": "person",
            "owner_id": "p-1",
            "period": "2026-03",
            "target": "1000000",
        }
        assert (await client.post("/v1/goals", json=goal, headers=admin)).status_code == 200
        payments = [
            activity("a", amount="1000000.00"),
            activity("b", amount="200000.00"),
            activity("c", amount="100000.00"),
        ]
        body, headers = signed(source["secret"], payments)
        assert (
            await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        ).status_code == 207
        rep = auth(settings, tenant, "rep", subject="p-1")
        query = 'query { statement(personId: "p-1", period: "2026-03") }'

        async def lines() -> dict[str, Any]:
            data = await graphql(client, rep, query)
            st = data["statement"]
            assert st is not None and st["base"] == "1300000.00" and st["quota"] is not None, st
            return {line["component"]: line["amount"] for line in st["lines"]}

        got = await eventually(lines, timeout=120)
        assert (got["commission"], got["over-achievement"]) == ("43000.00", "3000.00")
        data = await graphql(
            client, rep, 'query { whatIf(personId: "p-1", period: "2026-03", amount: "50000") }'
        )
        assert data["whatIf"]["difference"] == "3000.00"


async def test_a_plan_assigned_to_a_role_pays_everyone_with_that_role(
    database: DatabaseUrls,
) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        hr = auth(settings, tenant, "hr")
        finance = auth(settings, tenant, "finance")
        r = await client.put(
            "/v1/org/people/p-9", json={"name": "New", "role": "new_business_rep"}, headers=hr
        )
        assert r.status_code == 200
        flat = {
            "name": "reps",
            "effective_from": "2026-01-01",
            "components": [{"type": "flat", "rate": "0.05", "name": "commission"}],
        }
        assert (await client.put("/v1/plans/reps", json=flat, headers=finance)).status_code == 201
        body = {"roles": ["new_business_rep"], "valid_from": "2026-01-01"}
        assert (
            await client.post("/v1/plans/reps/assign", json=body, headers=finance)
        ).status_code == 204
        assert (
            await client.post(
                "/v1/plans/reps/assign", json={"valid_from": "2026-01-01"}, headers=finance
            )
        ).status_code == 422
        body, headers = signed(source["secret"], [activity("r-1", actor="p-9", amount="1000.00")])
        assert (
            await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        ).status_code == 207

        async def paid() -> bool:
            r = await client.get(
                "/v1/statements", params={"person_id": "p-9", "period": "2026-03"}, headers=finance
            )
            return r.status_code == 200 and r.json()["total"] == "50.00"

        await eventually(paid)


def refund(event_id: str, amount: str, of: str, at: str) -> dict[str, Any]:
    return activity(event_id, type="refund", amount=amount, refers_to=of, occurred_at=at)


async def test_a_refund_after_the_clawback_window_counts_where_it_happens(
    database: DatabaseUrls,
) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        finance = auth(settings, tenant, "finance")
        flat = {
            "name": "short",
            "effective_from": "2026-01-01",
            "clawback_days": 10,
            "components": [{"type": "flat", "rate": "0.05", "name": "commission"}],
        }
        assert (await client.put("/v1/plans/short", json=flat, headers=finance)).status_code == 201
        body = {"person_ids": ["p-1"], "valid_from": "2026-01-01"}
        assert (
            await client.post("/v1/plans/short/assign", json=body, headers=finance)
        ).status_code == 204
        events = [
            activity("pay", amount="1000.00", occurred_at="2026-03-05T10:00:00+08:00"),
            activity("pay2", amount="1000.00", occurred_at="2026-03-28T10:00:00+08:00"),
            refund("late", "100.00", "pay", "2026-04-20T10:00:00+08:00"),
            refund("soon", "200.00", "pay2", "2026-04-02T10:00:00+08:00"),
        ]
        body, headers = signed(source["secret"], events)
        assert (
            await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        ).status_code == 207

        async def totals() -> tuple[str, str]:
            march = await statement(client, finance, "p-1")
            r = await client.get(
                "/v1/statements", params={"person_id": "p-1", "period": "2026-04"}, headers=finance
            )
            assert march["base"] != "0", march
            return march["base"], r.json()["base"]

        async def settled() -> bool:
            return await totals() == ("1800.00", "-100.00")

        await eventually(settled)
        # 46 days after its payment (beyond the plan's 10 days) the refund counts in April, where it
        # happened; 5 days after pay2 (within them) it reverses pay2 in March


async def test_a_plan_change_mid_period_applies_from_its_date(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        finance = auth(settings, tenant, "finance")

        def flat(rate: str, since: str, **extra: Any) -> dict[str, Any]:
            return {
                "name": "f",
                "effective_from": since,
                "components": [{"type": "flat", "rate": rate, "name": "commission"}],
                **extra,
            }

        assert (
            await client.put("/v1/plans/f", json=flat("0.03", "2026-01-01"), headers=finance)
        ).status_code == 201
        assert (
            await client.put("/v1/plans/f", json=flat("0.05", "2026-03-16"), headers=finance)
        ).status_code == 201
        body = {"person_ids": ["p-1"], "valid_from": "2026-01-01"}
        assert (
            await client.post("/v1/plans/f/assign", json=body, headers=finance)
        ).status_code == 204
        events = [
            activity("early", amount="1000.00", occurred_at="2026-03-10T10:00:00+08:00"),
            activity("later", amount="1000.00", occurred_at="2026-03-20T10:00:00+08:00"),
        ]
        body, headers = signed(source["secret"], events)
        assert (
            await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        ).status_code == 207

        async def split() -> dict[str, Any]:
            st = await statement(client, finance, "p-1")
            assert st["base"] == "2000.00", st
            return st

        st = await eventually(split)
        lines = {x["component"]: x["amount"] for x in st["lines"]}
        assert lines == {
            "commission (v1 from 2026-03-01)": "30.00",
            "commission (v2 from 2026-03-16)": "50.00",
        }
        assert st["total"] == "80.00"
        # a version marked retroactive applies to the whole period
        assert (
            await client.put(
                "/v1/plans/f", json=flat("0.05", "2026-03-16", retroactive=True), headers=finance
            )
        ).status_code == 201
        st = await statement(client, finance, "p-1")
        assert ({x["component"]: x["amount"] for x in st["lines"]}, st["total"]) == (
            {"commission": "100.00"},
            "100.00",
        )
