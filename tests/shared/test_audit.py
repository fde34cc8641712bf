"""The audit log: who changed which target, score item or plan, with before and after values."""

from __future__ import annotations

import uuid

from allinone.app import SERVICES
from shared.db.bootstrap import DatabaseUrls
from shared.service import create_app
from tests.helpers import auth, make_settings, running


async def test_changes_are_audited_with_before_and_after(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings, SERVICES, title="t")) as client:
        tenant = uuid.uuid4()
        manager = auth(settings, tenant, "manager", subject="m-1")
        target = {"person_id": "p-1", "metric": "collected_revenue", "month": "2026-03"}
        assert (
            await client.put("/v1/targets", json=target | {"value": "1000"}, headers=manager)
        ).status_code == 204
        assert (
            await client.put("/v1/targets", json=target | {"value": "1200"}, headers=manager)
        ).status_code == 204
        finance = auth(settings, tenant, "finance", subject="f-1")
        assert (
            await client.put("/v1/plans/flat-rate", json={"rate": "0.03"}, headers=finance)
        ).status_code == 204
        hr = auth(settings, tenant, "hr", subject="h-1")
        assert (
            await client.put("/v1/score-items/collected_revenue", json={"weight": "30"}, headers=hr)
        ).status_code == 204

        r = await client.get("/v1/audit/goals", params={"target_type": "goal"}, headers=hr)
        assert r.status_code == 200
        newest, first = r.json()
        assert (first["actor"], first["action"], first["before"]) == ("m-1", "goal.created", None)
        assert first["after"]["target"] == "1000" and first["after"]["version"] == 1
        assert (newest["action"], newest["before"]) == (
            "goal.changed",
            {"target": "1000", "version": 1},
        )
        assert newest["after"]["target"] == "1200" and newest["after"]["version"] == 2
        assert newest["target_key"] == first["target_key"]  # the goal's id
        (plan,) = (await client.get("/v1/audit/incentives", headers=finance)).json()
        assert (plan["actor"], plan["after"]) == ("f-1", {"rate": "0.03"})
        (item,) = (await client.get("/v1/audit/scoring", headers=finance)).json()
        assert item["after"]["weight"] == "30"
        # another tenant's auditors see none of it; a rep may not look
        assert (
            await client.get("/v1/audit/goals", headers=auth(settings, uuid.uuid4(), "admin"))
        ).json() == []
        assert (
            await client.get("/v1/audit/goals", headers=auth(settings, tenant, "rep"))
        ).status_code == 403
