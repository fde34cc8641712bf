"""An item bound to the team (a regional manager's "Regional attainment") is scored from the
figures of the team the scorecard's person manages — never from their own."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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


async def test_a_team_item_scores_the_managed_teams_figures(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        hr = auth(settings, tenant, "hr")
        admin = auth(settings, tenant, "admin")
        r = await client.put(
            "/v1/org/teams/east", json={"name": "East", "manager_id": "m-east"}, headers=hr
        )
        assert r.status_code == 204, r.text
        for person in ("p-1", "p-2"):
            body = {"person_id": person, "team_id": "east", "valid_from": "2026-01-01"}
            r = await client.put("/v1/org/memberships", json=body, headers=hr)
            assert r.status_code == 204, r.text
        goals = [
            {"owner_kind": "team", "owner_id": "east", "target": "1000"},
            # The manager's own goal: its figures must not score the team item.
            {"owner_kind": "person", "owner_id": "m-east", "target": "100"},
        ]
        for goal in goals:
            body = {"metric": "collected_revenue", "period": "2026-03", **goal}
            r = await client.post("/v1/goals", json=body, headers=admin)
            assert r.status_code == 200, r.text
        r = await client.post(
            "/v1/scorecards",
            json={"template": "regional_manager", "period": "2026-03", "person_ids": ["m-east"]},
            headers=hr,
        )
        assert r.status_code == 201, r.text
        events = [
            activity("e-1", actor="p-1", amount="600.00"),
            activity("e-2", actor="p-2", amount="300.00"),
            activity("e-3", actor="m-east", amount="50.00"),
        ]
        body, headers = signed(source["secret"], events)
        r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        assert r.status_code == 207, r.text

        async def scored() -> dict[str, Any]:
            r = await client.get(
                "/v1/scorecards", params={"person_id": "m-east", "period": "2026-03"}, headers=hr
            )
            assert r.status_code == 200, r.text
            (item,) = [i for i in r.json()["items"] if i["key"] == "regional_attainment"]
            assert item["status"] == "scored" and Decimal(item["actual"]) == 900, item
            return item

        item = await eventually(scored)
        # 900 / 1,000 × 35 = 31.5 (from the manager's own 50 / 100 it would be 17.5)
        assert Decimal(item["target"]) == 1000
        assert Decimal(item["score"]) == Decimal("31.5")
        assert item["explanation"]["team"] == "east"
