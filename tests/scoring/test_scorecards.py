"""Scorecards through the public API and the real bus: quantitative items follow webhooks through
goals → scoring live (the 003 example capped at 30), a manual item, 360° ratings averaged within
groups then weighted and re-normalised, the total and its grade."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

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

TEMPLATE = {
    "name": "Field rep",
    "items": [
        {
            "key": "revenue",
            "name": "Revenue",
            "kind": "quantitative",
            "metric": "collected_revenue",
            "weight": 30,
        },
        {
            "key": "visits",
            "name": "Visits",
            "kind": "quantitative",
            "metric": "visits",
            "weight": 20,
            "target": 10,
        },
        {"key": "share", "name": "Market share", "source": "manual", "weight": 20},
        {"key": "collab", "name": "Collaboration (360°)", "kind": "qualitative", "weight": 30},
    ],
}


async def test_a_scorecard_scores_live_and_from_reviews(
    database: DatabaseUrls, bus_kind: str, request: pytest.FixtureRequest
) -> None:
    """Over the embedded bus and over a real Kafka broker: webhook → goals → scoring."""
    kafka = request.getfixturevalue("kafka_bootstrap") if bus_kind == "kafka" else None
    settings = make_settings(database, kafka=kafka)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        hr = auth(settings, tenant, "hr")
        admin = auth(settings, tenant, "admin")
        bad = TEMPLATE | {"items": TEMPLATE["items"][:3]}
        r = await client.put("/v1/scorecard-templates/field_rep", json=bad, headers=hr)
        assert r.status_code == 422 and "not 100" in r.text
        r = await client.put("/v1/scorecard-templates/field_rep", json=TEMPLATE, headers=hr)
        assert r.status_code == 200 and r.json()["quantitative_share"] == "70", r.text
        standard = {
            t["key"]: t for t in (await client.get("/v1/scorecard-templates", headers=hr)).json()
        }
        assert standard["new_business_rep"]["quantitative_share"] == "88"
        goal = {
            "metric": "collected_revenue",
            "owner_kind": "person",
            "owner_id": "p-1",
            "period": "2026-Q1",
            "target": "1000000",
        }
        assert (await client.post("/v1/goals", json=goal, headers=admin)).status_code == 200
        r = await client.post(
            "/v1/scorecards",
            json={"template": "field_rep", "period": "2026-Q1", "person_ids": ["p-1"]},
            headers=hr,
        )
        assert r.status_code == 201 and r.json()[0]["created"], r.text
        card_id = r.json()[0]["scorecard_id"]

        events = [
            activity("pay-1", amount="700000.00"),
            activity("pay-2", amount="500000.00", occurred_at="2026-02-10T10:00:00+08:00"),
        ]
        events += [activity(f"v-{i}", type="visit", amount=None) for i in range(5)]
        body, headers = signed(source["secret"], events)
        assert (
            await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        ).status_code == 207
        rep = auth(settings, tenant, "rep", subject="p-1")

        async def live() -> dict[str, Any]:
            r = await client.get(
                "/v1/scorecards", params={"person_id": "p-1", "period": "2026-Q1"}, headers=rep
            )
            card = r.json()
            items = {i["key"]: i for i in card["items"]}
            assert items["revenue"]["score"] is not None and items["visits"]["score"] is not None, (
                card
            )
            return items

        items = await eventually(live)
        # 003: target 1,000,000, actual 1,200,000, weight 30 → 36 → capped at 30
        assert (Decimal(items["revenue"]["ratio"]), Decimal(items["revenue"]["score"])) == (
            Decimal("1.2"),
            30,
        )
        assert items["revenue"]["explanation"]["capped"] is True
        assert Decimal(items["visits"]["score"]) == 10  # 5 of the template's 10, weight 20

        r = await client.put(
            f"/v1/scorecards/{card_id}/items/share",
            json={"actual": "0.3", "target": "0.25"},
            headers=hr,
        )
        assert (
            r.status_code == 200 and Decimal(r.json()["total"]) == 60 and r.json()["grade"] is None
        )

        raters = [
            {"rater_id": "m-1", "group": "manager"},
            {"rater_id": "p-2", "group": "peer"},
            {"rater_id": "p-3", "group": "peer"},
            {"rater_id": "p-1", "group": "self"},
        ]
        r = await client.post(
            f"/v1/scorecards/{card_id}/reviews", json={"raters": raters}, headers=hr
        )
        assert r.status_code == 201, r.text
        r = await client.post(
            f"/v1/scorecards/{card_id}/reviews",
            json={"raters": [{"rater_id": "p-1", "group": "peer"}]},
            headers=hr,
        )
        assert r.status_code == 422  # a person rates themselves only as self
        todo = (
            await client.get(
                "/v1/reviews/todo", headers=auth(settings, tenant, "rep", subject="p-2")
            )
        ).json()
        assert [t["items"] for t in todo] == [["collab"]]
        for rater, score in (("m-1", 80), ("p-2", 50), ("p-3", 70), ("p-1", 100)):
            r = await client.post(
                f"/v1/scorecards/{card_id}/ratings",
                json={"ratings": [{"item_key": "collab", "score": score, "comment": "ok"}]},
                headers=auth(settings, tenant, "rep", subject=rater),
            )
            assert r.status_code == 200, r.text
        r = await client.post(
            f"/v1/scorecards/{card_id}/ratings",
            json={"ratings": [{"item_key": "collab", "score": 1}]},
            headers=auth(settings, tenant, "rep", subject="p-9"),
        )
        assert r.status_code == 403  # not asked
        card = (
            await client.get(
                "/v1/scorecards", params={"person_id": "p-1", "period": "2026-Q1"}, headers=rep
            )
        ).json()
        collab = {i["key"]: i for i in card["items"]}["collab"]
        # manager 80, peers (50 + 70) / 2 = 60; no customers: 60 / 20 re-normalised to 75 % / 25 %
        assert Decimal(collab["actual"]) == 75 and Decimal(collab["score"]) == Decimal("22.5")
        assert collab["explanation"]["renormalised"] is True and collab["explanation"][
            "missing_groups"
        ] == ["customer"]
        assert collab["explanation"]["self"] == "100"
        assert "ratings" in collab["explanation"] and "p-2" not in str(
            collab["explanation"]
        )  # no one's answer shown
        assert (Decimal(card["total"]), card["grade"], card["complete"]) == (
            Decimal("82.5"),
            "A",
            True,
        )
