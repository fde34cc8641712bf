"""The demo stays realistic for an hour of streaming (issue 18): the Northwind tenant seeded through
the public API with the year's history at the business's pace, then an hour of `make demo`'s live
stream (7,200 events at its default 2 a second) posted at accelerated time through the signed
webhook. Attainment stays in a plausible band: the hour moves nobody's figures by more than an
hour's business, and the year's attainment stays where the history put it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from allinone.app import create_app
from allinone.demo import Simulator, seed_demo
from allinone.demo.company import TIMEZONE
from allinone.demo.simulate import business_share
from allinone.demo.stream import history_size, stream_events
from shared.db.bootstrap import DatabaseUrls
from shared.periods import PeriodKind, period_of
from shared.signing import sign_headers
from tests.helpers import eventually, graphql, make_settings, running

RATE = 2.0  # make demo's default events per second
HOUR = 3600
COMPANY = """query($p: String!) {
  goalTree(ownerKind: "company", ownerId: "company", period: $p, metric: "collected_revenue") {
    actual target }
}"""
BOARD = """query($p: String!) {
  leaderboard(metric: "collected_revenue", period: $p, limit: 50) { personId actual target }
}"""


async def board(client: httpx.AsyncClient, token: str, period: str) -> dict[str, dict[str, Any]]:
    rows = await graphql(client, {"Authorization": f"Bearer {token}"}, BOARD, p=period)
    return {r["personId"]: r for r in rows["leaderboard"]}


def test_live_stream_keeps_the_business_pace() -> None:
    """The simulator alone: an hour at 2 events a second holds about a quarter of one business
    event (deals, money, visits); the rest is chatter that moves no goal."""
    from allinone.demo.company import people

    share = business_share(RATE)
    assert 0 < share * RATE * HOUR < 1
    simulator = Simulator(people(2026), seed=11)
    start = datetime(2026, 12, 4, 9, tzinfo=ZoneInfo(TIMEZONE))
    simulator.warm_start(start - timedelta(days=300))
    money = visits = 0
    for i in range(int(RATE * HOUR)):
        at = start + timedelta(seconds=i / RATE)
        event = simulator.next_live_event(at, at, share)
        money += event["type"] in ("payment_received", "refund", "invoice_issued", "order_booked")
        visits += event["type"] == "visit"
    assert money + visits <= 4  # expected ≈ 0.25; never a month's business in an hour


async def test_an_hour_of_the_demo_stream_keeps_attainment_plausible(
    database: DatabaseUrls,
) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        demo = await seed_demo(client, settings)
        tz = ZoneInfo(TIMEZONE)
        now = datetime.now(tz)
        history = history_size(now, demo.year)
        assert 0 < history <= 2200
        stats = await stream_events(
            client,
            demo.source_id,
            demo.secret,
            demo.people,
            rate=0,
            count=0,
            backfill=history,
            seed=5,
            year=demo.year,
            now=now,
        )
        assert stats.rejected == 0, stats.errors[:5]
        year = period_of(PeriodKind.YEAR, now.date()).label
        month = demo.month

        async def settled(expected: Decimal) -> dict[str, dict[str, Any]]:
            """The leaderboard of the year once the company's collected revenue is `expected`."""

            async def check() -> bool:
                data = await graphql(
                    client, {"Authorization": f"Bearer {demo.admin_token}"}, COMPANY, p=year
                )
                return Decimal(data["goalTree"]["actual"]) == expected

            await eventually(check, timeout=180, interval=1)
            return await board(client, demo.admin_token, year)

        before_year = await settled(stats.collected)
        before_month = await board(client, demo.admin_token, month)

        # The year's history at the business's pace: people land in a plausible band of pace.
        elapsed = period_of(PeriodKind.YEAR, now.date()).elapsed_fraction(now, TIMEZONE)
        pace = {
            p: Decimal(r["actual"]) / (Decimal(r["target"]) * elapsed)
            for p, r in before_year.items()
            if r["target"] and Decimal(r["target"]) > 0
        }
        assert len(pace) >= 15, pace
        top = (
            await graphql(client, {"Authorization": f"Bearer {demo.admin_token}"}, COMPANY, p=year)
        )["goalTree"]
        company = Decimal(top["actual"]) / (Decimal(top["target"]) * elapsed)
        print("company pace", company, "people", sorted(round(v, 2) for v in pace.values()))
        assert Decimal("0.5") <= company <= Decimal("1.3"), company

        # An hour of the live stream at 2 a second, at accelerated time: 7,200 events over the
        # hour just past, posted in batches through the same signed webhook.
        simulator = Simulator(demo.people, seed=6)
        simulator.warm_start(now - timedelta(days=60))
        share = business_share(RATE)
        hour_start = now - timedelta(hours=1, minutes=1)
        events = []
        for i in range(int(RATE * HOUR)):
            at = hour_start + timedelta(seconds=i / RATE)
            events.append(simulator.next_live_event(at, now, share))
        counted = type(stats)()
        for i in range(0, len(events), 100):
            body = json.dumps(events[i : i + 100]).encode()
            headers = sign_headers(demo.secret, body) | {"Content-Type": "application/json"}
            r = await client.post(demo.webhook_path, content=body, headers=headers)
            assert r.status_code == 207, r.text
            for index, outcome in enumerate(r.json()["results"]):
                counted.note(events[i + index], outcome["status"])
        assert counted.rejected == 0 and counted.accepted >= 7000

        after_year = await settled(stats.collected + counted.collected)
        after_month = await board(client, demo.admin_token, month)
        # Nobody's month moved by more than a fifth of their month's target in that hour, and
        # nobody's year went past 150 % of its pro-rated target on account of the hour.
        for person, row in after_month.items():
            target = Decimal(row["target"] or 0)
            was = Decimal(before_month.get(person, {"actual": "0"})["actual"])
            moved = Decimal(row["actual"]) - was
            assert target == 0 or moved <= target / 5, (person, was, row)
        for person, row in after_year.items():
            target = Decimal(row["target"] or 0)
            if target <= 0:
                continue
            now_pace = Decimal(row["actual"]) / (target * elapsed)
            assert now_pace <= max(
                Decimal("1.5"), pace.get(person, Decimal(0)) + Decimal("0.05")
            ), (
                person,
                pace.get(person),
                now_pace,
            )
