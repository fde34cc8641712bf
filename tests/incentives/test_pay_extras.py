"""Through the public API: payments in another currency at the rate table, the NPS bonus from
survey responses, the team pool (best region, allocation adding up, approved by someone else),
appeals on pay lines, finance's summary with accruals, recognition, long-term incentives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
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

PLAN = {
    "name": "p",
    "effective_from": "2025-01-01",
    "components": [
        {"type": "flat", "rate": "0.03", "name": "commission"},
        {"type": "nps", "threshold": "90", "amount": "3000", "name": "nps"},
    ],
}


async def post(
    client: httpx.AsyncClient, source: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    body, headers = signed(source["secret"], events)
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 207, r.text


async def test_currencies_nps_pools_appeals_reports(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        await configure_org(client, settings, tenant)  # East > East A (m-a), West (m-west)
        admin = auth(settings, tenant, "admin", subject="a-1")
        finance = auth(settings, tenant, "finance", subject="f-1")
        assert (await client.put("/v1/plans/p", json=PLAN, headers=finance)).status_code == 201
        body = {"person_ids": ["p-1", "p-2"], "valid_from": "2025-01-01"}
        assert (
            await client.post("/v1/plans/p/assign", json=body, headers=finance)
        ).status_code == 204
        rate = {"currency": "USD", "base": "CNY", "rate": "7.2", "valid_from": "2026-01-01"}
        assert (await client.put("/v1/fx-rates", json=rate, headers=finance)).status_code == 204
        surveys = [
            activity(
                f"s-{i}",
                type="survey_response",
                amount=None,
                attributes={"kind": "nps", "score": 10 if i < 9 else 8},
            )
            for i in range(10)
        ]
        await post(
            client,
            source,
            [
                activity("cny", amount="100000.00"),
                {**activity("usd", amount=None), "amount": {"value": "1000.00", "currency": "USD"}},
                activity(
                    "west", actor="p-2", amount="50000.00", occurred_at="2026-03-03T10:00:00+08:00"
                ),
                activity("last-year", amount="10.00", occurred_at="2025-06-01T10:00:00+08:00"),
                *surveys,
            ],
        )
        rep = auth(settings, tenant, "rep", subject="p-1")

        async def statement() -> dict[str, Any]:
            r = await client.get(
                "/v1/statements", params={"person_id": "p-1", "period": "2026-03"}, headers=rep
            )
            st = r.json()
            assert st["base"] == "107200.0000" or Decimal(st["base"]) == Decimal("107200"), st
            lines = {x["component"]: x for x in st["lines"]}
            assert lines["nps"]["amount"] == "3000.00", st  # 90 % promoters, none detractors
            return st

        st = await eventually(statement)
        (usd,) = [c for c in st["conversions"] if c["currency"] == "USD"]
        assert (usd["amount"], usd["rate"], usd["converted"]) == (
            "1000.00",
            "7.2",
            "7200.00",
        )  # both amounts
        assert {x["component"]: x["amount"] for x in st["lines"]}["commission"] == "3216.00"

        # team pool: East (the region with the best attainment) gets 100,000; East A's manager is m-a
        for team, target in (("east", "100000"), ("west", "100000")):
            goal = {
                "metric": "collected_revenue",
                "owner_kind": "team",
                "owner_id": team,
                "period": "2026-03",
                "target": target,
            }
            assert (await client.post("/v1/goals", json=goal, headers=admin)).status_code == 200
        await post(
            client, source, [activity("more", amount="1.00")]
        )  # moves the figures: progress announced

        async def pool() -> dict[str, Any]:
            r = await client.post(
                "/v1/team-pools", json={"period": "2026-03", "amount": "100000"}, headers=finance
            )
            assert r.status_code == 201, r.text
            return r.json()

        created = await eventually(pool)
        assert created["team_id"] == "east"
        await client.put(
            "/v1/org/teams/east", json={"name": "East", "manager_id": "m-east"}, headers=admin
        )
        m_east = auth(settings, tenant, "manager", subject="m-east")
        url = f"/v1/team-pools/{created['pool_id']}"
        r = await client.put(
            f"{url}/allocation",
            json={"allocation": {"p-1": "60000", "p-2": "30000"}},
            headers=m_east,
        )
        assert r.status_code == 422 and r.json()["difference"] == "-10000"
        r = await client.put(
            f"{url}/allocation",
            json={"allocation": {"p-1": "70000", "p-2": "30000"}},
            headers=auth(settings, tenant, "manager", subject="m-west"),
        )
        assert r.status_code == 403
        assert (
            await client.put(
                f"{url}/allocation",
                json={"allocation": {"p-1": "70000", "p-2": "30000"}},
                headers=m_east,
            )
        ).status_code == 200
        assert (await client.post(f"{url}/approve", headers=finance)).status_code == 200
        # pay appeal: p-1 disputes the commission; a committee member (not the manager) adds 500
        r = await client.post(
            "/v1/pay-appeals",
            json={"period": "2026-03", "component": "commission", "reason": "a payment is missing"},
            headers=rep,
        )
        appeal = r.json()["appeal_id"]
        assert (
            await client.post(
                f"/v1/pay-appeals/{appeal}/decide",
                json={"accept": True, "reason": "x", "correction": "500"},
                headers=auth(settings, tenant, "committee", subject="m-a"),
            )
        ).status_code == 403
        r = await client.post(
            f"/v1/pay-appeals/{appeal}/decide",
            json={"accept": True, "reason": "found it", "correction": "500"},
            headers=auth(settings, tenant, "committee", subject="c-1"),
        )
        assert r.status_code == 200, r.text
        st = (
            await client.get(
                "/v1/statements", params={"person_id": "p-1", "period": "2026-03"}, headers=rep
            )
        ).json()
        lines = {x["component"]: x["amount"] for x in st["lines"]}
        assert (lines["team pool"], lines["appeal correction (commission)"]) == (
            "70000.00",
            "500.00",
        )

        # finance: earned, paid and accrued per team
        r = await client.get(
            "/v1/payouts/summary", params={"period": "2026-03", "team_id": "east"}, headers=finance
        )
        people = {x["person_id"]: x for x in r.json()["people"]}
        assert (
            Decimal(people["p-1"]["accrued"]) == Decimal(st["total"])
            and people["p-1"]["paid"] == "0"
        )
        data = (
            await client.post(
                "/graphql",
                json={"query": '{ teamPayouts(period: "2026-03", teamId: "east") }'},
                headers=finance,
            )
        ).json()
        assert data["data"]["teamPayouts"]["accrued"] == r.json()["accrued"], data
        # recognition and long-term incentives
        r = await client.get("/v1/recognition", params={"month": "2026-03"}, headers=rep)
        assert r.json()["champion"] == ["p-1"] and r.json()["leaderboard"][0]["rank"] == 1
        r = await client.get("/v1/lti/eligibility", params={"year": 2026}, headers=finance)
        # top 10 % (at least one person) in 2026 and in 2025
        assert r.json()["eligible"] == ["p-1"]
        r = await client.post(
            "/v1/lti/profit-share", json={"year": 2026, "pool": "1000"}, headers=finance
        )
        shares = {k: Decimal(v) for k, v in r.json()["shares"].items()}
        assert sum(shares.values()) == 1000 and shares["p-1"] > shares["p-2"]
