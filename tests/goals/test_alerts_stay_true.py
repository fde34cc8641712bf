"""Alerts stay true (issue 18): a period that is over raises no pace alert, an alert about a
period that has ended or been closed resolves itself with the reason, and a projection never goes
below zero — all through the running app (webhooks, the time-driven sweep, the REST API)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from shared.db.engine import asyncpg_dsn
from shared.periods import PeriodKind, period_of, previous
from tests.goals.test_alerts import alerts, post
from tests.helpers import (
    activity,
    auth,
    create_tenant_and_source,
    eventually,
    make_settings,
    running,
)

FAST = {"alert_sweep_seconds": 0.3}


async def goal(
    client: httpx.AsyncClient, headers: dict[str, str], person: str, period: str
) -> None:
    body = {
        "metric": "collected_revenue",
        "owner_kind": "person",
        "owner_id": person,
        "period": period,
        "target": "1000",
    }
    r = await client.post("/v1/goals", json=body, headers=headers)
    assert r.status_code == 200, r.text


async def figures(
    client: httpx.AsyncClient, headers: dict[str, str], person: str, period: str
) -> dict[str, Any]:
    params = {"owner_kind": "person", "owner_id": person, "period": period}
    r = await client.get("/v1/goals", params=params, headers=headers)
    assert r.status_code == 200, r.text
    (row,) = r.json()
    return row


def paid(key: str, person: str, amount: str, when: datetime, **extra: Any) -> dict[str, Any]:
    event = activity(key, actor=person, amount=amount, occurred_at=when.isoformat(), **extra)
    return event | {"recorded_at": event["occurred_at"]}


async def test_alerts_about_periods_that_are_over_resolve_with_a_reason(
    database: DatabaseUrls,
) -> None:
    settings = make_settings(database, **FAST)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings, timezone="UTC")
        admin = auth(settings, tenant, "admin")
        now = datetime.now(UTC).replace(microsecond=0)
        month = period_of(PeriodKind.MONTH, now.date())
        last = previous(month)
        # Judge pace from the first moment of a period, whatever day the test runs.
        r = await client.put(
            "/v1/alerts/settings",
            json={"thresholds": {"pace_min_elapsed": "0.000001"}},
            headers=admin,
        )
        assert r.status_code == 200, r.text

        # 1. Last month is over: its 10 % attainment is an outcome, not a pace to warn about.
        await goal(client, admin, "p-old", last.label)
        mid_last = datetime.combine(last.start, datetime.min.time(), UTC) + timedelta(days=10)
        await post(client, source, [paid("old-1", "p-old", "100.00", mid_last)])

        async def counted() -> bool:
            return (await figures(client, admin, "p-old", last.label))["actual"] == "100.00"

        await eventually(counted)

        # 2. This month: refunds beyond collections. Behind pace, projected 0 %, never negative.
        await goal(client, admin, "p-now", month.label)
        earlier = now - timedelta(minutes=10)
        await post(
            client,
            source,
            [
                paid("now-1", "p-now", "500.00", earlier),
                paid(
                    "now-2",
                    "p-now",
                    "800.00",
                    earlier + timedelta(minutes=1),
                    type="refund",
                    refers_to="now-1",
                ),
            ],
        )

        async def behind() -> dict[str, Any]:
            found = await alerts(client, admin, person_id="p-now", rule="behind_pace")
            assert len(found) == 1, found
            assert found[0]["figures"]["actual"] == "-300.00", found
            return found[0]

        alert = await eventually(behind)
        assert alert["figures"]["projected"] == "0", alert["figures"]
        assert alert["period"] == month.label and alert["severity"] == "critical"
        row = await figures(client, admin, "p-now", month.label)
        assert row["actual"] == "-300.00" and Decimal(row["attainment"]) == Decimal("-0.3")
        assert Decimal(row["projected_attainment"]) == 0

        # 3. An alert an older version raised about last month (still open in the database):
        #    the time-driven sweep resolves it as `period_ended`.
        stale_id = uuid.uuid4()
        conn = await asyncpg.connect(asyncpg_dsn(database.owner_url))
        try:
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant))
                await conn.execute(
                    """INSERT INTO goals.alerts (alert_id, tenant_id, rule, subject, person_id,
                       metric, period, severity, figures, evidence_requested, status)
                       VALUES ($1, $2, 'behind_pace', $3, 'p-old', 'collected_revenue', $4,
                       'critical', $5::jsonb, false, 'open')""",
                    stale_id,
                    tenant,
                    f"p-old|collected_revenue|{last.label}",
                    last.label,
                    json.dumps({"projected": "-0.189", "threshold": "0.9"}),
                )
        finally:
            await conn.close()

        async def stale_resolved() -> dict[str, Any]:
            found = await alerts(client, admin, person_id="p-old", status="resolved")
            assert [a["alert_id"] for a in found] == [str(stale_id)], found
            return found[0]

        resolved = await eventually(stale_resolved)
        assert resolved["resolution"] == "period_ended" and resolved["resolved_by"] == "system"
        assert resolved["figures"]["at_resolution"] == {
            "reason": "period_ended",
            "period_end": last.end.isoformat(),
        }
        await asyncio.sleep(1.0)  # several sweeps and progress events later: nothing reopened
        assert await alerts(client, admin, person_id="p-old") == []
        assert await alerts(client, admin, person_id="p-now", rule="behind_pace") != []

        # 4. Closing this month resolves its alerts at once, as `period_closed`.
        r = await client.post(f"/v1/periods/{month.label}/close", headers=admin)
        assert r.status_code == 200, r.text
        found = await alerts(client, admin, person_id="p-now", status="resolved")
        assert [(a["alert_id"], a["resolution"]) for a in found] == [
            (alert["alert_id"], "period_closed")
        ]
        await asyncio.sleep(1.0)
        assert await alerts(client, admin, person_id="p-now") == []
