"""Backfill: 100,000 historical activities streamed through the webhook's validation and
idempotency, each counted once; re-running the same file adds nothing. CSV from a finance system
works the same way."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from tests.helpers import auth, create_tenant_and_source, eventually, make_settings, running

ROWS = 100_000
NDJSON = {"content-type": "application/x-ndjson"}


async def history() -> AsyncIterator[bytes]:
    lines = []
    for i in range(ROWS):
        day = 1 + i % 28
        month = 1 + (i // 28) % 3
        event = {
            "id": f"hist-{i}",
            "type": "visit",
            "occurred_at": f"2026-{month:02d}-{day:02d}T10:00:00+08:00",
            "actor_id": f"p-{i % 10}",
            "attributes": {"duration_minutes": 30 + i % 40},
        }
        lines.append(json.dumps(event))
        if len(lines) == 5000:
            yield ("\n".join(lines) + "\n").encode()
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode()


async def test_a_large_backfill_counts_each_row_once(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        admin = auth(settings, tenant, "admin")
        url = f"/v1/sources/{source['source_id']}/backfill"
        r = await client.post(url, content=history(), headers=admin | NDJSON, timeout=600)
        assert r.status_code == 200, r.text
        done = r.json()
        assert (done["status"], done["rows_read"], done["accepted"], done["duplicates"]) == (
            "done",
            ROWS,
            ROWS,
            0,
        )
        r = await client.get(f"/v1/backfills/{done['backfill_id']}", headers=admin)
        assert r.json()["accepted"] == ROWS

        async def counted() -> bool:
            r = await client.get(
                "/v1/totals", params={"company": "true", "period": "2026-Q1"}, headers=admin
            )
            got = {t["metric"]: Decimal(t["actual"]) for t in r.json() if t["actual"] is not None}
            return got.get("visits") == ROWS

        await eventually(counted, timeout=900, interval=1.0)
        # the same file again: every row a duplicate, nothing added
        r = await client.post(url, content=history(), headers=admin | NDJSON, timeout=600)
        assert (r.json()["accepted"], r.json()["duplicates"]) == (0, ROWS)
        r = await client.get(
            "/v1/totals", params={"company": "true", "period": "2026-Q1"}, headers=admin
        )
        got = {t["metric"]: t for t in r.json()}
        assert Decimal(got["visits"]["actual"]) == ROWS and got["visits"]["event_count"] == ROWS
        assert Decimal(got["effective_visits"]["actual"]) == ROWS  # every duration ≥ 30 minutes


async def test_finance_csv_backfill_with_a_bad_row(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        admin = auth(settings, tenant, "admin")
        csv = (
            "id,type,occurred_at,actor_id,amount,currency,refers_to,customer_segment\n"
            "erp-1,payment_received,2026-03-02T10:00:00+08:00,p-1,1000.00,CNY,,new\n"
            "erp-2,refund,2026-03-09T10:00:00+08:00,p-1,200.00,CNY,erp-1,new\n"
            "erp-3,invoice_issued,2026-03-01T10:00:00+08:00,p-1,5000.00,CNY,,\n"
            "erp-4,payment_received,2026-03-03T10:00:00+08:00,p-1,,CNY,,\n"
        )
        r = await client.post(
            f"/v1/sources/{source['source_id']}/backfill",
            content=csv.encode(),
            headers=admin | {"content-type": "text/csv"},
        )
        assert r.status_code == 200, r.text
        assert (r.json()["accepted"], r.json()["quarantined"]) == (3, 1)
        (q,) = (await client.get("/v1/quarantine", headers=admin)).json()
        assert q["reason"] == "invalid_event"

        async def figures() -> dict[str, Decimal]:
            r = await client.get(
                "/v1/totals", params={"person_id": "p-1", "month": "2026-03"}, headers=admin
            )
            got = {t["metric"]: Decimal(t["actual"]) for t in r.json() if t["actual"] is not None}
            assert got.get("invoiced_revenue") == 5000, got
            return got

        got = await eventually(figures)
        assert (got["collected_revenue"], got["new_customer_revenue"]) == (800, 800)
        assert got["collection_rate"] == Decimal("0.16")
