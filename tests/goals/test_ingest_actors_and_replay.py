"""Actors resolved through people and per-source aliases; unknown actors quarantined and replayed
once known; quarantine → fix → replay yields exactly one event; secrets rotate with a grace
period where the old one still verifies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from tests.helpers import (
    activity,
    auth,
    create_tenant_and_source,
    eventually,
    make_settings,
    running,
    signed,
)


async def post(
    client: httpx.AsyncClient,
    source: dict[str, Any],
    events: list[dict[str, Any]],
    secret: str | None = None,
) -> httpx.Response:
    body, headers = signed(secret or source["secret"], events)
    return await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)


async def test_unknown_actors_wait_in_quarantine_until_known(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        admin = auth(settings, tenant, "admin")
        r = await client.put(
            "/v1/org/people/p-1", json={"name": "Ann", "role": "sales_rep"}, headers=admin
        )
        assert r.status_code == 200
        r = await post(
            client,
            source,
            [
                activity("e-1", actor="p-1", amount="100.00"),
                activity("e-2", actor="crm-user-7", amount="40.00"),
            ],
        )
        assert r.status_code == 207
        first, second = r.json()["results"]
        assert first["status"] == "accepted"
        assert second["status"] == "invalid" and second["errors"][0]["field"] == "actor_id"
        (q,) = (await client.get("/v1/quarantine", headers=admin)).json()
        assert (q["reason"], q["detail"]["actors"], q["status"]) == (
            "unknown_actor",
            ["crm-user-7"],
            "open",
        )

        # the CRM's user id becomes an alias of p-1: the event is replayed and credited to p-1
        r = await client.put(
            f"/v1/sources/{source['source_id']}/aliases/crm-user-7",
            json={"person_id": "p-1"},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        (q,) = (await client.get("/v1/quarantine", headers=admin)).json()
        assert q["status"] == "replayed" and q["event_id"]
        # later events naming the alias are credited to p-1 directly
        assert (
            await post(client, source, [activity("e-3", actor="crm-user-7", amount="2.00")])
        ).json()["results"][0]["status"] == "accepted"

        async def credited() -> bool:
            r = await client.get(
                "/v1/totals", params={"person_id": "p-1", "month": "2026-03"}, headers=admin
            )
            got = {t["metric"]: Decimal(t["actual"]) for t in r.json() if t["actual"] is not None}
            return got.get("collected_revenue") == Decimal("142.00")

        await eventually(credited)
        # an unknown person named in a credit split is quarantined too; adding them replays it
        split = activity(
            "e-4",
            actor="p-1",
            amount="10.00",
            credit_split=[{"actor_id": "p-1", "share": "0.5"}, {"actor_id": "p-2", "share": "0.5"}],
        )
        assert (await post(client, source, [split])).json()["results"][0]["status"] == "invalid"
        r = await client.put(
            "/v1/org/people/p-2", json={"name": "Bob", "role": "sales_rep"}, headers=admin
        )
        assert r.status_code == 200
        statuses = {
            q["quarantine_id"]: q["status"]
            for q in (await client.get("/v1/quarantine", headers=admin)).json()
        }
        assert set(statuses.values()) == {"replayed"}


async def test_fix_and_replay_yields_exactly_one_event(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        admin = auth(settings, tenant, "admin")
        bad = activity("e-9", amount=None)  # a payment without its amount
        r = await post(client, source, [bad])
        outcome = r.json()["results"][0]
        assert outcome["status"] == "invalid" and outcome["quarantine_id"]
        qid = outcome["quarantine_id"]
        # replayed as stored: still invalid, reported, the row stays open, nothing new stored
        r = await client.post(f"/v1/quarantine/{qid}/replay", json={}, headers=admin)
        assert (r.status_code, r.json()["status"]) == (422, "invalid")
        assert len((await client.get("/v1/quarantine", headers=admin)).json()) == 1
        fixed = activity("e-9", amount="75.00")
        r = await client.post(f"/v1/quarantine/{qid}/replay", json={"event": fixed}, headers=admin)
        assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
        event_id = r.json()["event_id"]
        for _ in range(3):  # replays again, and the same event from the CRM: one event
            r = await client.post(
                f"/v1/quarantine/{qid}/replay", json={"event": fixed}, headers=admin
            )
            assert r.status_code == 200 and r.json()["event_id"] == event_id
        assert (await post(client, source, [fixed])).json()["results"][0]["status"] == "duplicate"

        async def once() -> bool:
            r = await client.get(
                "/v1/totals", params={"person_id": "p-1", "month": "2026-03"}, headers=admin
            )
            got = {t["metric"]: t for t in r.json()}
            return (
                "collected_revenue" in got
                and got["collected_revenue"]["event_count"] == 1
                and Decimal(got["collected_revenue"]["actual"]) == 75
            )

        await eventually(once)
        assert (await client.get("/v1/quarantine", headers=admin)).json()[0]["status"] == "replayed"
        r = await client.post("/v1/quarantine/999999/replay", json={}, headers=admin)
        assert r.status_code == 404


async def test_secret_rotation_keeps_the_old_secret_for_its_grace_period(
    database: DatabaseUrls,
) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        admin = auth(settings, tenant, "admin")
        old = source["secret"]
        r = await client.post(
            f"/v1/sources/{source['source_id']}/rotate", json={"grace_seconds": 3600}, headers=admin
        )
        assert r.status_code == 200
        new = r.json()["secret"]
        assert new != old
        assert (await post(client, source, [activity("r-1")], secret=old)).status_code == 207
        assert (await post(client, source, [activity("r-2")], secret=new)).status_code == 207
        r = await client.post(
            f"/v1/sources/{source['source_id']}/rotate",
            json={"grace_seconds": 0, "secret": "a-brand-new-secret"},
            headers=admin,
        )
        assert r.status_code == 200
        refused = await post(client, source, [activity("r-3")], secret=new)
        assert refused.status_code == 401
        assert (
            await post(client, source, [activity("r-4")], secret="a-brand-new-secret")
        ).status_code == 207
        # the first old secret is still within its hour
        assert (await post(client, source, [activity("r-5")], secret=old)).status_code == 207
