"""Personal data: a person's data can be exported from each service, and erasing the person
pseudonymises them everywhere — audit log included — while every total stays as it was."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from tests.e2e.slice import configure, post_events, slice_events
from tests.helpers import activity, auth, eventually, make_settings, running

SERVICES = ("goals", "scoring", "incentives")


async def test_export_then_erase_keeps_every_total(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        clients = {"goals": client, "scoring": client, "incentives": client}
        tenant, source = await configure(clients, settings)
        await post_events(client, source, slice_events())
        hr = auth(settings, tenant, "hr", subject="h-1")
        me = auth(settings, tenant, "rep", subject="p-1")

        async def exported() -> dict[str, dict]:
            out = {}
            for s in SERVICES:
                r = await client.get(f"/v1/people/p-1/export/{s}", headers=me)
                assert r.status_code == 200, r.text
                out[s] = r.json()
            assert len(out["incentives"]["commission_lines"]) == 4  # three in March, one in April
            assert len(out["scoring"]["scores"]) == 1
            return out

        data = await eventually(exported)
        assert len(data["goals"]["activities"]) == 6
        assert {t["metric"] for t in data["goals"]["totals"]} >= {
            "collected_revenue",
            "visit.count",
        }
        assert data["goals"]["audit_log"][0]["target_key"].startswith("p-1/")
        other = auth(settings, tenant, "rep", subject="p-2")
        assert (await client.get("/v1/people/p-1/export/goals", headers=other)).status_code == 403

        assert (await client.post("/v1/people/p-1/erase", headers=me)).status_code == 403
        r = await client.post("/v1/people/p-1/erase", headers=hr)
        assert r.status_code == 200, r.text
        pseudonym = r.json()["pseudonym"]

        admin = create_async_engine(database.admin_url)

        async def nothing_left() -> bool:
            async with admin.connect() as conn:
                tables = (
                    (
                        await conn.execute(
                            text(
                                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                                "WHERE table_schema IN ('goals', 'scoring', 'incentives') AND table_type = 'BASE TABLE'"
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
                mentions = {}
                for t in tables:
                    n = (
                        await conn.execute(
                            text(
                                f"SELECT count(*) FROM {t} r WHERE r::text ~ '(^|[^a-z0-9-])p-1([^0-9]|$)'"
                            )
                        )
                    ).scalar_one()
                    if n:
                        mentions[t] = n
            assert mentions == {}, mentions
            return True

        try:
            await eventually(nothing_left)
            anon = auth(settings, tenant, "hr")
            r = await client.get(
                "/v1/totals", params={"person_id": pseudonym, "month": "2026-03"}, headers=anon
            )
            assert {t["metric"]: Decimal(t["actual"]) for t in r.json()}[
                "collected_revenue"
            ] == Decimal("1200000")
            r = await client.get(
                "/v1/scores", params={"person_id": pseudonym, "month": "2026-03"}, headers=anon
            )
            assert Decimal(r.json()[0]["score"]) == Decimal("30")
            r = await client.get(
                "/v1/commissions", params={"person_id": pseudonym, "month": "2026-03"}, headers=anon
            )
            assert Decimal(r.json()[0]["commission_total"]) == Decimal("36000")
            r = await client.get("/v1/audit/goals", params={"target_type": "person"}, headers=anon)
            assert [(e["action"], e["target_key"]) for e in r.json()] == [
                ("person.erased", pseudonym)
            ]
            # The CRM still sends events naming p-1: they are credited to the pseudonym.
            later = [
                activity("late-1", amount="1000.00", occurred_at="2026-03-20T10:00:00+08:00"),
                activity(
                    "late-2",
                    actor="p-7",
                    amount="100.00",
                    occurred_at="2026-03-20T10:00:00+08:00",
                    credit_split=[
                        {"actor_id": "p-7", "share": "0.5"},
                        {"actor_id": "p-1", "share": "0.5"},
                    ],
                ),
            ]
            await post_events(client, source, later)

            async def credited() -> bool:
                r = await client.get(
                    "/v1/totals", params={"person_id": pseudonym, "month": "2026-03"}, headers=anon
                )
                revenue = {t["metric"]: Decimal(t["actual"]) for t in r.json()}["collected_revenue"]
                assert revenue == Decimal("1201050"), revenue
                return True

            await eventually(credited)
            await eventually(nothing_left)
            for s in SERVICES:
                left = (await client.get(f"/v1/people/p-1/export/{s}", headers=hr)).json()
                assert all(v == [] for k, v in left.items() if k not in ("service", "person_id")), (
                    left
                )
        finally:
            await admin.dispose()
