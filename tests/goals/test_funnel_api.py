"""The sales funnel through the public API: signed webhook events → facts → GET /v1/funnel and
the GraphQL field; conversions and median days exact, the weakest stage named, cohorts by the
deal's first event (person / team on that day / period), deletions, and access."""

from __future__ import annotations

from datetime import date, timedelta
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
    graphql,
    make_settings,
    running,
    signed,
)

Q1 = "2026-Q1"
# lead → contact gaps of deals 1..6, contact → quote of deals 1..3, quote → won of deal 1 (days)
CONTACT_GAPS = (1, 2, 3, 4, 5, 6)
QUOTE_GAPS = (2, 4, 9)
WON_GAPS = (10,)

FUNNEL = """
query ($p: String!, $person: String, $team: String, $company: Boolean! = false) {
  funnel(period: $p, personId: $person, teamId: $team, company: $company) {
    ownerKind ownerId period periodStart periodEnd
    stages { stage name deals }
    transitions { from to name entered converted conversion medianDays sample }
    weakest { name from to conversion }
    overall
  }
}
"""


def at(day: str) -> str:
    return f"{day}T10:00:00+08:00"  # the tenant is in Asia/Shanghai


def plus(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def stage(event_id: str, type_: str, actor: str, day: str, deal: str) -> dict[str, Any]:
    return activity(
        event_id, type=type_, actor=actor, amount=None, occurred_at=at(day), deal_id=deal
    )


def p1_funnel() -> list[dict[str, Any]]:
    """p-1 (East A): 10 leads in January, 6 contacted, 3 quoted, 1 won, at known day gaps."""
    events = []
    for n in range(1, 11):
        deal, day = f"d-{n:02d}", f"2026-01-{n + 4:02d}"
        events.append(stage(f"lead-{n}", "lead_created", "p-1", day, deal))
        steps = (
            ("first_contact", CONTACT_GAPS),
            ("quote_sent", QUOTE_GAPS),
            ("deal_won", WON_GAPS),
        )
        for type_, gaps in steps:
            if n > len(gaps):
                break
            day = plus(day, gaps[n - 1])
            events.append(stage(f"{type_}-{n}", type_, "p-1", day, deal))
    return events


async def post(
    client: httpx.AsyncClient, source: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    body, headers = signed(source["secret"], events)
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 207, r.text
    assert all(o["status"] == "accepted" for o in r.json()["results"]), r.json()


async def funnel(
    client: httpx.AsyncClient, headers: dict[str, str], status: int = 200, **params: str
) -> dict[str, Any]:
    r = await client.get("/v1/funnel", params=params, headers=headers)
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


def deals(result: dict[str, Any]) -> list[int]:
    return [s["deals"] for s in result["stages"]]


def dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


async def test_funnel_by_person_team_and_period(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)  # Asia/Shanghai
        # East > East A (m-east, m-a), West (m-west); p-1 in East A; p-2 West → East A on 16 March
        await configure_org(client, settings, tenant)
        admin = auth(settings, tenant, "admin")
        events = [
            *p1_funnel(),
            # started in December: the Q4 cohort, even though it is contacted in January
            stage("lead-old", "lead_created", "p-1", "2025-12-20", "d-old"),
            stage("contact-old", "first_contact", "p-1", "2026-01-10", "d-old"),
            # a lead that will be deleted
            stage("lead-del", "lead_created", "p-1", "2026-02-10", "d-del"),
            # p-2 in West on 2 March, in East A on 20 March
            stage("lead-w1", "lead_created", "p-2", "2026-03-02", "d-w1"),
            stage("contact-w1", "first_contact", "p-2", "2026-03-04", "d-w1"),
            stage("lead-e1", "lead_created", "p-2", "2026-03-20", "d-e1"),
            # not a stage, and a stage event without a deal: neither counts
            stage("lost-1", "deal_lost", "p-1", "2026-02-01", "d-04"),
            activity(
                "lead-x",
                type="lead_created",
                actor="p-1",
                amount=None,
                occurred_at=at("2026-02-02"),
            ),
        ]
        await post(client, source, events)

        async def everything_in() -> bool:
            return deals(await funnel(client, admin, company="true", period=Q1)) == [13, 7, 3, 1]

        await eventually(everything_in)

        # deleting d-del's only stage event removes the deal
        deletion = activity(
            "del-1",
            type="record_deleted",
            actor="p-1",
            amount=None,
            occurred_at=at("2026-02-11"),
            refers_to="lead-del",
        )
        await post(client, source, [deletion])

        async def deleted() -> bool:
            return deals(await funnel(client, admin, company="true", period=Q1)) == [12, 7, 3, 1]

        await eventually(deleted)

        # p-1: 10 → 6 → 3 → 1
        mine = await funnel(client, admin, person_id="p-1", period=Q1)
        assert (mine["owner_kind"], mine["owner_id"], mine["period"]) == ("person", "p-1", Q1)
        assert (mine["period_start"], mine["period_end"]) == ("2026-01-01", "2026-03-31")
        assert mine["stages"] == [
            {"stage": "lead_created", "name": "lead", "deals": 10},
            {"stage": "first_contact", "name": "first contact", "deals": 6},
            {"stage": "quote_sent", "name": "quote", "deals": 3},
            {"stage": "deal_won", "name": "won", "deals": 1},
        ]
        steps = [
            (t["from"], t["to"], t["name"], t["entered"], t["converted"], t["sample"])
            for t in mine["transitions"]
        ]
        assert steps == [
            ("lead_created", "first_contact", "lead → first contact", 10, 6, 6),
            ("first_contact", "quote_sent", "first contact → quote", 6, 3, 3),
            ("quote_sent", "deal_won", "quote → won", 3, 1, 1),
        ]
        assert [dec(t["conversion"]) for t in mine["transitions"]] == [
            Decimal("0.6"),
            Decimal("0.5"),
            Decimal(1) / Decimal(3),
        ]
        assert mine["transitions"][2]["conversion"].startswith("0.3333333333")
        assert [dec(t["median_days"]) for t in mine["transitions"]] == [
            Decimal("3.5"),  # median of 1..6
            Decimal("4"),  # median of 2, 4, 9
            Decimal("10"),
        ]
        assert mine["weakest"]["name"] == "quote → won"
        assert (mine["weakest"]["from"], mine["weakest"]["to"]) == ("quote_sent", "deal_won")
        assert dec(mine["overall"]) == Decimal("0.1")

        # a deal belongs to the period its first event is in
        q4 = await funnel(client, admin, person_id="p-1", period="2025-Q4")
        assert deals(q4) == [1, 1, 0, 0]
        assert q4["transitions"][0]["median_days"] == "21.00"
        assert dec(q4["transitions"][1]["conversion"]) == 0 and q4["weakest"]["to"] == "quote_sent"

        # teams: by the team the first event's actor was in on its day, sub-teams included
        west = await funnel(client, admin, team_id="west", period=Q1)
        assert deals(west) == [1, 1, 0, 0]
        east_a = await funnel(client, admin, team_id="east-a", period=Q1)
        assert deals(east_a) == [11, 6, 3, 1]  # p-1's ten and p-2's lead of 20 March
        east = await funnel(client, admin, team_id="east", period=Q1)
        assert deals(east) == deals(east_a)
        assert dec(east["transitions"][0]["conversion"]) == Decimal(6) / Decimal(11)
        march = await funnel(client, admin, team_id="east-a", period="2026-03")
        assert deals(march) == [1, 0, 0, 0] and march["weakest"]["name"] == "lead → first contact"
        empty = await funnel(client, admin, person_id="p-9", period=Q1)
        assert deals(empty) == [0, 0, 0, 0]
        assert empty["weakest"] is None and empty["overall"] is None
        assert all(t["conversion"] is None for t in empty["transitions"])

        # access: like /v1/totals
        m_a = auth(settings, tenant, "manager", subject="m-a")
        m_west = auth(settings, tenant, "manager", subject="m-west")
        rep = auth(settings, tenant, "rep", subject="p-1")
        assert deals(await funnel(client, m_a, team_id="east-a", period=Q1)) == [11, 6, 3, 1]
        assert deals(await funnel(client, m_a, person_id="p-1", period=Q1)) == [10, 6, 3, 1]
        assert deals(await funnel(client, m_west, team_id="west", period=Q1)) == [1, 1, 0, 0]
        assert deals(await funnel(client, rep, person_id="p-1", period=Q1)) == [10, 6, 3, 1]
        r = await client.get(
            "/v1/funnel", params={"team_id": "east-a", "period": Q1}, headers=m_west
        )
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")
        await funnel(client, m_west, 403, person_id="p-1", period=Q1)
        await funnel(client, m_a, 403, team_id="west", period=Q1)
        await funnel(client, rep, 403, company="true", period=Q1)
        await funnel(client, rep, 403, person_id="p-2", period=Q1)
        # bad requests name the field
        bad = await funnel(client, admin, 422, person_id="p-1", period="2026-Q5")
        assert bad["errors"][0]["field"] == "period"
        bad = await funnel(client, admin, 422, person_id="p-1", team_id="west", period=Q1)
        assert bad["errors"][0]["field"] == "person_id"
        await funnel(client, admin, 422, person_id="p-1")

        # GraphQL: the same numbers
        data = await graphql(client, admin, FUNNEL, p=Q1, person="p-1")
        g = data["funnel"]
        assert (g["ownerKind"], g["ownerId"], g["period"]) == ("person", "p-1", Q1)
        assert (g["periodStart"], g["periodEnd"]) == (mine["period_start"], mine["period_end"])
        assert g["stages"] == mine["stages"]
        assert g["weakest"] == mine["weakest"]
        assert dec(g["overall"]) == dec(mine["overall"])
        for got, want in zip(g["transitions"], mine["transitions"], strict=True):
            assert (got["from"], got["to"], got["name"]) == (want["from"], want["to"], want["name"])
            assert (got["entered"], got["converted"], got["sample"]) == (
                want["entered"],
                want["converted"],
                want["sample"],
            )
            assert dec(got["conversion"]) == dec(want["conversion"])
            assert dec(got["medianDays"]) == dec(want["median_days"])
        m_east = auth(settings, tenant, "manager", subject="m-east")
        team = (await graphql(client, m_east, FUNNEL, p=Q1, team="east"))["funnel"]
        assert [s["deals"] for s in team["stages"]] == deals(east)
        r = await client.post(
            "/graphql",
            json={"query": FUNNEL, "variables": {"p": Q1, "team": "east-a"}},
            headers=m_west,
        )
        body = r.json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["status"] == 403, body
