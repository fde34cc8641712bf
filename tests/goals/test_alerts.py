"""Early warnings through the running app: rules raised live from webhooks and the time-driven
sweep, once per cause, self-resolving; lifecycle and evidence; a WebSocket subscriber receives a
new alert; a signed outbound webhook reaches a local receiver after two failures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from fastapi import FastAPI, Request, Response

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from shared.periods import PeriodKind, period_of, previous
from shared.signing import verify
from tests.helpers import (
    activity,
    auth,
    create_tenant_and_source,
    eventually,
    free_port,
    make_settings,
    running,
    signed,
    token,
)

FAST = {"alert_sweep_seconds": 0.3, "outbound_allow_private": True, "outbound_backoff_scale": 0.01}


def at(moment: datetime) -> str:
    return moment.isoformat()


def recorded(event: dict[str, Any]) -> dict[str, Any]:
    """Entered in the CRM when it happened (not late), unless the event says otherwise."""
    return {"recorded_at": event["occurred_at"]} | event


async def post(
    client: httpx.AsyncClient, source: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    body, headers = signed(source["secret"], events)
    r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
    assert r.status_code == 207, r.text


async def alerts(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    r = await client.get("/v1/alerts", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_rules_fire_once_per_cause_and_clear(database: DatabaseUrls) -> None:
    settings = make_settings(database, **FAST)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings, timezone="UTC")
        admin = auth(settings, tenant, "admin")
        now = datetime.now(UTC).replace(microsecond=0)
        base = now - timedelta(days=3)
        late = activity(
            "late-1",
            actor="p-1",
            type="visit",
            amount=None,
            occurred_at=at(base),
            recorded_at=at(base + timedelta(hours=24, seconds=1)),
        )
        on_time = activity(
            "late-0",
            actor="p-1",
            type="visit",
            amount=None,
            occurred_at=at(base),
            recorded_at=at(base + timedelta(hours=24)),
        )
        follow = [
            activity(
                f"f-{i}",
                actor="p-2",
                type="visit",
                amount=None,
                occurred_at=at(base + timedelta(minutes=i)),
                customer={"id": "c-1"},
            )
            for i in range(6)
        ]
        five = [
            activity(
                f"g-{i}",
                actor="p-2",
                type="call",
                amount=None,
                occurred_at=at(base + timedelta(minutes=i)),
                customer={"id": "c-2"},
            )
            for i in range(5)
        ]
        burst = [
            activity(
                f"b-{i}",
                actor="p-3",
                type="call",
                amount=None,
                occurred_at=at(base + timedelta(seconds=i)),
            )
            for i in range(51)
        ]
        calm = [
            activity(
                f"c-{i}",
                actor="p-4",
                type="call",
                amount=None,
                occurred_at=at(base + timedelta(seconds=i)),
            )
            for i in range(50)
        ]
        follow, five, burst, calm = (
            [recorded(e) for e in group] for group in (follow, five, burst, calm)
        )
        await post(client, source, [late, on_time, *follow, *five])
        await post(client, source, burst)
        await post(client, source, calm)
        await post(client, source, [late, *follow])  # delivered again: no second alert

        async def raised() -> list[dict[str, Any]]:
            got = await alerts(client, admin)
            assert {a["rule"] for a in got} >= {"late_entry", "repeated_follow_up", "burst"}, got
            return got

        got = await eventually(raised)
        await asyncio.sleep(1.0)
        got = await alerts(client, admin)
        by_rule = {}
        for a in got:
            by_rule.setdefault(a["rule"], []).append(a)
        assert [a["person_id"] for a in by_rule["late_entry"]] == ["p-1"]
        assert by_rule["late_entry"][0]["figures"]["hours_late"].startswith("24.000")
        assert [a["person_id"] for a in by_rule["repeated_follow_up"]] == [
            "p-2"
        ]  # 6 for c-1, 5 for c-2
        assert [a["person_id"] for a in by_rule["burst"]] == ["p-3"]  # 51 > 50; 50 is not
        # a backfill of a late event never raises one
        line = json.dumps(
            activity(
                "late-9",
                actor="p-5",
                type="visit",
                amount=None,
                occurred_at=at(base),
                recorded_at=at(base + timedelta(days=5)),
            )
        ).encode()
        r = await client.post(
            f"/v1/sources/{source['source_id']}/backfill",
            content=line,
            headers=admin | {"content-type": "application/x-ndjson"},
        )
        assert r.json()["accepted"] == 1

        # behind pace: a goal for this month, nothing recorded → the sweep warns; a payment
        # that brings the pace back resolves it
        month = period_of(PeriodKind.MONTH, now.date())
        # Judge pace from the first moment of the month (the default waits for 20% of it), so the
        # test does not depend on the day it runs; the thresholds are tenant settings.
        r = await client.put(
            "/v1/alerts/settings",
            json={"thresholds": {"pace_min_elapsed": "0.000001"}},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        goal = {
            "metric": "collected_revenue",
            "owner_kind": "person",
            "owner_id": "p-6",
            "period": month.label,
            "target": "1000",
        }
        assert (await client.post("/v1/goals", json=goal, headers=admin)).status_code == 200

        async def behind() -> dict[str, Any]:
            found = await alerts(client, admin, person_id="p-6")
            assert len(found) == 1, found
            (a,) = found
            assert a["rule"] == "behind_pace" and a["figures"]["threshold"] == "0.9"
            return a

        alert = await eventually(behind)
        await asyncio.sleep(1.0)  # more sweeps: still one alert
        assert len(await alerts(client, admin, person_id="p-6")) == 1
        await post(
            client,
            source,
            [
                activity(
                    "pay-6",
                    actor="p-6",
                    amount="1000.00",
                    occurred_at=at(now - timedelta(minutes=5)),
                )
            ],
        )

        async def cleared() -> bool:
            found = await alerts(client, admin, person_id="p-6", status="resolved")
            assert len(found) == 1, found
            (a,) = found
            return a["alert_id"] == alert["alert_id"] and a["resolution"] == "cleared"

        await eventually(cleared)
        assert await alerts(client, admin, person_id="p-6") == []

        # the pace view: actual to date against the straight line to the target, day by day
        goals = (
            await client.get(
                "/v1/goals",
                params={"owner_kind": "person", "owner_id": "p-6", "period": month.label},
                headers=admin,
            )
        ).json()
        r = await client.get(f"/v1/goals/{goals[0]['goal_id']}/pace", headers=admin)
        assert r.status_code == 200, r.text
        pace = r.json()
        assert pace["points"][0]["date"] == month.start.isoformat()
        assert Decimal(pace["points"][-1]["actual"]) == 1000
        assert pace["points"][-1]["date"] == now.date().isoformat()
        assert (
            Decimal(pace["points"][-1]["expected"]) == Decimal(1000) * (now.date().day) / month.days
        )

        # a deal with no stage change for 14 days stalls; a stage change clears it
        quote = recorded(
            activity(
                "q-1",
                actor="p-7",
                type="quote_sent",
                amount=None,
                deal_id="d-1",
                occurred_at=at(now - timedelta(days=14, minutes=1)),
            )
        )
        await post(client, source, [quote])

        async def stalled() -> dict[str, Any]:
            found = await alerts(client, admin, rule="stalled_deal")
            assert len(found) == 1 and found[0]["subject"] == "d-1", found
            return found[0]

        await eventually(stalled)
        await post(
            client,
            source,
            [
                recorded(
                    activity(
                        "w-1",
                        actor="p-7",
                        type="deal_won",
                        amount=None,
                        deal_id="d-1",
                        occurred_at=at(now - timedelta(hours=1)),
                    )
                )
            ],
        )

        async def unstalled() -> bool:
            return await alerts(client, admin, rule="stalled_deal") == []

        await eventually(unstalled)

        # lifecycle: open → acknowledged (who, when) → resolved; no way back
        (late_alert,) = by_rule["late_entry"]
        rep = auth(settings, tenant, "rep", subject="p-1")
        r = await client.post(
            f"/v1/alerts/{late_alert['alert_id']}/acknowledge", json={}, headers=rep
        )
        assert r.status_code == 200 and r.json()["acknowledged_by"] == "p-1"
        r = await client.post(
            f"/v1/alerts/{late_alert['alert_id']}/resolve",
            json={"reason": "entered late on purpose"},
            headers=admin,
        )
        assert r.status_code == 200 and r.json()["status"] == "resolved"
        r = await client.post(
            f"/v1/alerts/{late_alert['alert_id']}/acknowledge", json={}, headers=admin
        )
        assert r.status_code == 409
        # a rep sees their own alerts only
        assert {a["person_id"] for a in await alerts(client, rep, status="resolved")} == {"p-1"}
        r = await client.get("/v1/alerts", params={"person_id": "p-2"}, headers=rep)
        assert r.status_code == 403


async def test_spike_asks_for_evidence_and_rejected_data_leaves_the_totals(
    database: DatabaseUrls,
) -> None:
    settings = make_settings(database, **FAST)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings, timezone="UTC")
        admin = auth(settings, tenant, "admin")
        last = previous(period_of(PeriodKind.MONTH, datetime.now(UTC).date()))
        before = previous(last)
        day = lambda p: f"{p.start.isoformat()}T10:00:00+00:00"  # noqa: E731
        await post(
            client,
            source,
            [
                activity(
                    "m2",
                    actor="p-1",
                    amount="100.00",
                    occurred_at=day(before),
                    recorded_at=day(before),
                ),
                activity(
                    "m1", actor="p-1", amount="300.00", occurred_at=day(last), recorded_at=day(last)
                ),
            ],
        )

        async def spiked() -> dict[str, Any]:
            found = await alerts(client, admin, person_id="p-1", rule="spike_drop")
            assert len(found) == 1, found
            (a,) = found
            assert a["evidence_requested"] and a["figures"]["change"].startswith("2"), a
            return a

        alert = await eventually(spiked)
        rep = auth(settings, tenant, "rep", subject="p-1")
        r = await client.post(
            f"/v1/alerts/{alert['alert_id']}/evidence",
            json={"text": "one big order", "link": "crm://order/7"},
            headers=rep,
        )
        assert r.status_code == 201, r.text
        evidence_id = r.json()["evidence_id"]
        manager = auth(settings, tenant, "admin", subject="m-1")
        r = await client.post(
            f"/v1/alerts/{alert['alert_id']}/evidence/{evidence_id}/decide",
            json={
                "accept": False,
                "reason": "the order was cancelled",
                "exclude_activities": ["m1"],
                "source_id": source["source_id"],
            },
            headers=manager,
        )
        assert r.status_code == 200 and r.json() == {
            "decision": "rejected",
            "excluded": [f"excluded:{alert['alert_id']}:m1"],
        }, r.text

        async def excluded() -> bool:
            r = await client.get(
                "/v1/totals", params={"person_id": "p-1", "period": last.label}, headers=admin
            )
            return "collected_revenue" not in {t["metric"] for t in r.json()}

        await eventually(excluded)
        r = await client.get(f"/v1/alerts/{alert['alert_id']}", headers=admin)
        assert r.json()["evidence"][0]["decision"] == "rejected"
        r = await client.get("/v1/audit/goals", params={"target_type": "alert"}, headers=admin)
        assert any(x["action"] == "evidence.rejected" for x in r.json())


@pytest.fixture
async def server(database: DatabaseUrls) -> AsyncIterator[tuple[str, Any]]:
    settings = make_settings(database, **FAST)
    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(srv.serve())
    while not srv.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}", settings
    finally:
        srv.should_exit = True
        await asyncio.wait_for(task, 15)


async def test_a_subscriber_receives_a_new_alert_after_the_webhook(server) -> None:
    host, settings = server
    async with httpx.AsyncClient(base_url=f"http://{host}") as client:
        tenant, source = await create_tenant_and_source(client, settings, timezone="UTC")
        bearer = f"Bearer {token(settings, tenant, ['manager'], subject='m-1')}"
        admin = auth(settings, tenant, "admin")
        assert (
            await client.put(
                "/v1/org/teams/t-1", json={"name": "T", "manager_id": "m-1"}, headers=admin
            )
        ).status_code == 204
        body = {"person_id": "p-1", "team_id": "t-1", "valid_from": "2020-01-01"}
        assert (
            await client.put("/v1/org/memberships", json=body, headers=admin)
        ).status_code == 204
        async with websockets.connect(
            f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"]
        ) as ws:
            await ws.send(
                json.dumps({"type": "connection_init", "payload": {"Authorization": bearer}})
            )
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
            query = 'subscription { alerts(teamId: "t-1") { rule personId figures } }'
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
            await asyncio.sleep(0.5)
            now = datetime.now(UTC).replace(microsecond=0)
            late = activity(
                "late-ws",
                actor="p-1",
                type="visit",
                amount=None,
                occurred_at=at(now - timedelta(days=2)),
                recorded_at=at(now),
            )
            await post(client, source, [late])
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            assert message["type"] == "next", message
            assert message["payload"]["data"]["alerts"]["rule"] == "late_entry"
            assert message["payload"]["data"]["alerts"]["personId"] == "p-1"


async def test_outbound_webhook_is_signed_and_retried_until_delivered(
    database: DatabaseUrls,
) -> None:
    received: list[tuple[dict[str, str], bytes]] = []
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=500 if len(received) <= 2 else 200)

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(receiver, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(srv.serve())
    while not srv.started:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    try:
        settings = make_settings(database, **FAST)
        async with running(create_app(settings)) as client:
            tenant, source = await create_tenant_and_source(client, settings, timezone="UTC")
            admin = auth(settings, tenant, "admin")
            secret = "outbound-secret-1"
            r = await client.post(
                "/v1/alerts/channels",
                json={"kind": "quotient", "url": f"http://127.0.0.1:{port}/hook", "secret": secret},
                headers=admin,
            )
            assert r.status_code == 201, r.text
            now = datetime.now(UTC).replace(microsecond=0)
            await post(
                client,
                source,
                [
                    activity(
                        "late-o",
                        actor="p-1",
                        type="visit",
                        amount=None,
                        occurred_at=at(now - timedelta(days=2)),
                        recorded_at=at(now),
                    )
                ],
            )

            async def delivered() -> list[dict[str, Any]]:
                r = await client.get("/v1/alerts/deliveries", headers=admin)
                assert len(r.json()) == 1, (r.json(), await alerts(client, admin))
                (d,) = r.json()
                assert d["status"] == "delivered", d
                return d["attempts"]

            attempts = await eventually(delivered)
            assert [a["status_code"] for a in attempts] == [500, 500, 200]
            assert len(received) == 3
            headers, body = received[-1]
            verify([secret], headers["x-quotient-timestamp"], headers["x-quotient-signature"], body)
            alert = json.loads(body)
            assert alert["rule"] == "late_entry" and alert["person_id"] == "p-1"
            # the same alert is delivered once: nothing more arrives
            await asyncio.sleep(0.5)
            assert len(received) == 3
            # a loopback URL is refused when the operator does not allow private targets
        strict = make_settings(database)
        async with running(create_app(strict)) as client:
            r = await client.post(
                "/v1/alerts/channels",
                json={"kind": "slack", "url": "https://127.0.0.1/x"},
                headers=auth(strict, tenant, "admin"),
            )
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "url"
    finally:
        srv.should_exit = True
        await asyncio.wait_for(task, 15)
