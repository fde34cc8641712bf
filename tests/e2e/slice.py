"""The vertical slice every run mode must pass: webhooks → goals totals → scoring → incentives,
each figure read back through that service's GraphQL and REST."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx

from shared.settings import BaseServiceSettings
from tests.helpers import activity, auth, create_tenant_and_source, eventually, graphql, signed

TOTALS = """query($p: String!, $m: String!) { kpiTotals(personId: $p, month: $m) {
  metric actual target attainment eventCount } }"""
SCORES = """query($p: String!, $m: String!) { scores(personId: $p, month: $m) {
  metric status weight target actual ratio score explanation } }"""
COMMISSIONS = """query($p: String!, $m: String!) { commissions(personId: $p, month: $m) {
  currency baseTotal commissionTotal lineCount lines { activityId base rate commission } } }"""


async def configure(
    clients: dict[str, httpx.AsyncClient], settings: BaseServiceSettings
) -> tuple[uuid.UUID, dict[str, Any]]:
    tenant_id, source = await create_tenant_and_source(clients["goals"], settings)
    admin = auth(settings, tenant_id, "admin")
    r = await clients["goals"].put(
        "/v1/targets",
        json={
            "person_id": "p-1",
            "metric": "collected_revenue",
            "month": "2026-03",
            "value": "1000000",
        },
        headers=admin,
    )
    assert r.status_code == 204, r.text
    r = await clients["scoring"].put(
        "/v1/score-items/collected_revenue", json={"weight": "30"}, headers=admin
    )
    assert r.status_code == 204, r.text
    r = await clients["incentives"].put("/v1/plans/flat-rate", json={"rate": "0.03"}, headers=admin)
    assert r.status_code == 204, r.text
    return tenant_id, source


def slice_events() -> list[dict[str, Any]]:
    return [
        activity("pay-1", amount="500000.00", occurred_at="2026-03-02T09:00:00+08:00"),
        activity("pay-2", amount="400000.00", occurred_at="2026-03-15T09:00:00+08:00"),
        # 23:30 on the last day of March in Shanghai is still March (15:30 UTC)
        activity("pay-3", amount="300000.00", occurred_at="2026-03-31T15:30:00Z"),
        # 00:30 on 1 April in Shanghai: April, not March
        activity("pay-4", amount="999.00", occurred_at="2026-03-31T16:30:00Z"),
        activity("visit-1", type="visit", amount=None, attributes={"duration_minutes": 45}),
        # booked, not paid: never a commission base
        activity("order-1", type="order_booked", amount="77777.00"),
    ]


async def post_events(
    client: httpx.AsyncClient, source: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    for event in events:
        body, headers = signed(source["secret"], event)
        r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        assert r.status_code == 202, r.text


async def run_slice(clients: dict[str, httpx.AsyncClient], settings: BaseServiceSettings) -> None:
    tenant_id, source = await configure(clients, settings)
    events = slice_events()
    await post_events(clients["goals"], source, events)
    await post_events(clients["goals"], source, events[:3])  # delivered again: counted once
    rep = auth(settings, tenant_id, "rep", subject="p-1")
    variables = {"p": "p-1", "m": "2026-03"}

    async def march_totals() -> dict[str, Any]:
        data = await graphql(clients["goals"], rep, TOTALS, **variables)
        totals = {t["metric"]: t for t in data["kpiTotals"]}
        assert "collected_revenue" in totals and totals["collected_revenue"]["eventCount"] == 3, (
            totals
        )
        assert {"visit.count", "order_booked.amount"} <= set(totals), totals
        return totals

    totals = await eventually(march_totals)
    revenue = totals["collected_revenue"]
    assert Decimal(revenue["actual"]) == Decimal("1200000")
    assert Decimal(revenue["target"]) == Decimal("1000000")
    assert Decimal(revenue["attainment"]) == Decimal("1.2")
    assert totals["payment_received.count"]["eventCount"] == 3
    assert Decimal(totals["visit.count"]["actual"]) == 1
    assert Decimal(totals["order_booked.amount"]["actual"]) == Decimal("77777")

    async def score() -> dict[str, Any]:
        data = await graphql(clients["scoring"], rep, SCORES, **variables)
        assert len(data["scores"]) == 1, data
        item: dict[str, Any] = data["scores"][0]
        assert Decimal(item["actual"]) == Decimal("1200000"), item
        return item

    item = await eventually(score)
    # PRODUCT.md §3 worked example: 1,200,000 / 1,000,000 × 30 = 36 → capped at 30
    assert Decimal(item["score"]) == Decimal("30")
    assert Decimal(item["ratio"]) == Decimal("1.2")
    assert item["status"] == "provisional"
    assert item["explanation"]["capped"] is True

    async def commission() -> dict[str, Any]:
        data = await graphql(clients["incentives"], rep, COMMISSIONS, **variables)
        assert len(data["commissions"]) == 1, data
        c: dict[str, Any] = data["commissions"][0]
        assert c["lineCount"] == 3, c
        return c

    c = await eventually(commission)
    assert Decimal(c["baseTotal"]) == Decimal("1200000")
    assert Decimal(c["commissionTotal"]) == Decimal("36000")
    assert sorted(line["activityId"] for line in c["lines"]) == ["pay-1", "pay-2", "pay-3"]

    # REST reads the same figures.
    r = await clients["goals"].get(
        "/v1/totals", params={"person_id": "p-1", "month": "2026-03"}, headers=rep
    )
    assert {t["metric"]: Decimal(t["actual"]) for t in r.json()}["collected_revenue"] == Decimal(
        "1200000"
    )
    r = await clients["scoring"].get(
        "/v1/scores", params={"person_id": "p-1", "month": "2026-03"}, headers=rep
    )
    assert Decimal(r.json()[0]["score"]) == Decimal("30")
    r = await clients["incentives"].get(
        "/v1/commissions", params={"person_id": "p-1", "month": "2026-03"}, headers=rep
    )
    assert Decimal(r.json()[0]["commission_total"]) == Decimal("36000")
    # April got the 00:30 payment.
    r = await clients["goals"].get(
        "/v1/totals", params={"person_id": "p-1", "month": "2026-04"}, headers=rep
    )
    assert {t["metric"]: Decimal(t["actual"]) for t in r.json()}["collected_revenue"] == Decimal(
        "999"
    )
    # A rep sees only their own figures.
    r = await clients["incentives"].get(
        "/v1/commissions", params={"person_id": "p-2", "month": "2026-03"}, headers=rep
    )
    assert r.status_code == 403


async def configure_org(
    client: httpx.AsyncClient, settings: BaseServiceSettings, tenant: uuid.UUID
) -> None:
    """Teams East > East A (managers m-east, m-a) and West (m-west); p-1 in East A; p-2 in West,
    moving to East A on 16 March."""
    hr = auth(settings, tenant, "hr")
    teams = [
        ("east", {"name": "East", "manager_id": "m-east"}),
        ("east-a", {"name": "East A", "parent_team_id": "east", "manager_id": "m-a"}),
        ("west", {"name": "West", "manager_id": "m-west"}),
    ]
    for team_id, body in teams:
        assert (
            await client.put(f"/v1/org/teams/{team_id}", json=body, headers=hr)
        ).status_code == 204
    moves = [
        ("p-1", "east-a", "2026-01-01"),
        ("p-2", "west", "2026-01-01"),
        ("p-2", "east-a", "2026-03-16"),
    ]
    for person, team, since in moves:
        body = {"person_id": person, "team_id": team, "valid_from": since}
        assert (await client.put("/v1/org/memberships", json=body, headers=hr)).status_code == 204
