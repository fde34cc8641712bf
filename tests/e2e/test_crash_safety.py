"""kill -9 workers in the middle of a stream of 2,500 events, restart them: the final totals equal
the sum of the events — nothing lost, nothing counted twice."""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.db.bootstrap import DatabaseUrls
from tests.e2e.processes import Fleet
from tests.e2e.slice import configure
from tests.helpers import activity, eventually, signed

DELIVERIES = 100
PER_DELIVERY = 25
PEOPLE = 40


async def test_killed_workers_lose_nothing_and_count_nothing_twice(
    fleet: Fleet, database: DatabaseUrls
) -> None:
    rng = random.Random(7)
    goals = httpx.AsyncClient(base_url=fleet.url("goals"), timeout=30)
    clients = {
        "goals": goals,
        "scoring": httpx.AsyncClient(base_url=fleet.url("scoring"), timeout=30),
        "incentives": httpx.AsyncClient(base_url=fleet.url("incentives"), timeout=30),
    }
    _tenant, source = await configure(clients, fleet.settings)
    expected: dict[str, Decimal] = defaultdict(Decimal)
    sent = 0
    for delivery in range(DELIVERIES):
        if delivery == 30:
            fleet.kill("goals-worker")
            fleet.kill("incentives-worker")
        if delivery == 45:
            fleet.kill("scoring-worker")
        if delivery == 60:
            for name in ("goals-worker", "incentives-worker", "scoring-worker"):
                fleet.start(name)
        batch = []
        for _ in range(PER_DELIVERY):
            person = f"p-{rng.randrange(PEOPLE)}"
            amount = Decimal(rng.randrange(100, 1_000_000)) / 100
            expected[person] += amount
            batch.append(activity(f"evt-{sent}", actor=person, amount=str(amount)))
            sent += 1
        body, headers = signed(source["secret"], batch)
        r = await goals.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        assert r.status_code == 207 and r.json()["accepted"] == PER_DELIVERY, r.text
        if delivery == 50:
            # the same deliveries again, while the workers are down: still counted once
            r = await goals.post(
                f"/v1/webhooks/{source['source_id']}", content=body, headers=headers
            )
            assert r.json()["duplicates"] == PER_DELIVERY
    assert sent >= 2000

    engine = create_async_engine(database.admin_url)

    async def figures() -> bool:
        async with engine.connect() as conn:
            totals = {
                r.person_id: r.value
                for r in await conn.execute(
                    text(
                        "SELECT owner_id AS person_id, value FROM goals.totals WHERE metric = 'collected_revenue'"
                        " AND owner_kind = 'person' AND period_kind = 'month'"
                    )
                )
            }
            commission = {
                r.person_id: (r.base_total, r.commission_total, r.line_count)
                for r in await conn.execute(
                    text(
                        "SELECT person_id, base_total, commission_total, line_count FROM incentives.commission_totals"
                    )
                )
            }
        assert sum(totals.values()) == sum(expected.values()), (len(totals), sum(totals.values()))
        assert sum(c[2] for c in commission.values()) == sent, sum(
            c[2] for c in commission.values()
        )
        return (
            totals == expected
            and {p: c[0] for p, c in commission.items()} == expected
            and all(c[1] == c[0] * Decimal("0.03") for c in commission.values())
        )

    try:
        assert await eventually(figures, timeout=180, interval=0.5)
        async with engine.connect() as conn:
            consumed = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM goals.inbox WHERE consumer_group NOT LIKE '%goals-alerts'"
                    )
                )
            ).scalar_one()
            scores = (await conn.execute(text("SELECT count(*) FROM scoring.scores"))).scalar_one()
        assert consumed == sent
        assert scores == 1  # only p-1 has a target; the scorer kept up after its restart
    except AssertionError:
        for name in fleet.procs:
            print(f"--- {name}\n{fleet.log(name)}")
        raise
    finally:
        await engine.dispose()
        for c in clients.values():
            await c.aclose()
