"""Goal decomposition through the public API: year → quarters → months, company → teams →
people, by weights and by last year's share; bad splits refused with the difference; bottom-up
proposals; versions; closed periods immutable; SMART warnings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from tests.e2e.slice import configure_org
from tests.helpers import (
    activity,
    auth,
    create_tenant_and_source,
    eventually,
    make_settings,
    running,
    signed,
)


def targets(goals: list[dict[str, Any]]) -> dict[str, Decimal]:
    return {
        (g["period"] if g["owner_kind"] == "company" else g["owner_id"]): Decimal(g["target"])
        for g in goals
    }


async def goal(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await client.post("/v1/goals", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_decomposition_adds_up_and_bad_splits_are_refused(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, _source = await create_tenant_and_source(client, settings)
        await configure_org(client, settings, tenant)
        admin = auth(settings, tenant, "admin")
        year = await goal(
            client,
            admin,
            metric="collected_revenue",
            owner_kind="company",
            period="2026",
            target="12000000",
            reason="board plan",
        )
        # year → quarters (even) → months (even)
        r = await client.post(
            f"/v1/goals/{year['goal_id']}/split",
            json={"along": "time", "into": "quarter", "rule": "even"},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        quarters = r.json()
        assert [(q["period"], Decimal(q["target"])) for q in quarters] == [
            (f"2026-Q{i}", Decimal(3000000)) for i in range(1, 5)
        ]
        r = await client.post(
            f"/v1/goals/{quarters[0]['goal_id']}/split",
            json={"along": "time", "into": "month"},
            headers=admin,
        )
        months = r.json()
        assert [(m["period"], Decimal(m["target"])) for m in months] == [
            ("2026-01", Decimal(1000000)),
            ("2026-02", Decimal(1000000)),
            ("2026-03", Decimal(1000000)),
        ]
        # seasonality: by weights, shares always add up (largest remainder)
        r = await client.post(
            f"/v1/goals/{year['goal_id']}/split",
            json={
                "along": "time",
                "into": "quarter",
                "rule": "weights",
                "weights": {"2026-Q1": 1, "2026-Q2": 2, "2026-Q3": 3, "2026-Q4": 4},
            },
            headers=admin,
        )
        assert [Decimal(q["target"]) for q in r.json()] == [
            Decimal(x) for x in ("1200000", "2400000", "3600000", "4800000")
        ]
        # company → top-level teams → sub-teams → people
        r = await client.post(
            f"/v1/goals/{year['goal_id']}/split", json={"along": "org"}, headers=admin
        )
        teams = {t["owner_id"]: t for t in r.json()}
        assert {k: Decimal(v["target"]) for k, v in teams.items()} == {
            "east": Decimal(6000000),
            "west": Decimal(6000000),
        }
        r = await client.post(
            f"/v1/goals/{teams['east']['goal_id']}/split", json={"along": "org"}, headers=admin
        )
        (east_a,) = r.json()
        assert (east_a["owner_id"], Decimal(east_a["target"])) == ("east-a", Decimal(6000000))
        r = await client.post(
            f"/v1/goals/{east_a['goal_id']}/split",
            json={"along": "org", "rule": "even"},
            headers=admin,
        )
        people = {p["owner_id"]: Decimal(p["target"]) for p in r.json()}
        assert people == {"p-1": Decimal(3000000), "p-2": Decimal(3000000)}  # p-2 joins on 16 March
        r = await client.get(f"/v1/goals/{east_a['goal_id']}", headers=admin)
        assert Decimal(r.json()["children_total"]) == Decimal(6000000)
        assert Decimal(r.json()["children_difference"]) == 0
        # explicit targets that do not add up: refused, saying by how much
        r = await client.post(
            f"/v1/goals/{year['goal_id']}/split",
            json={"along": "org", "targets": {"east": "7000000", "west": "4999000"}},
            headers=admin,
        )
        assert r.status_code == 422, r.text
        problem = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert problem["difference"] == "-1000" and "short by 1000" in problem["detail"]
        assert problem["errors"][0]["field"] == "targets"
        r = await client.post(
            f"/v1/goals/{year['goal_id']}/split",
            json={"along": "org", "targets": {"east": "7000000", "west": "5000000"}},
            headers=admin,
        )
        assert r.status_code == 200 and targets(r.json()) == {
            "east": Decimal(7000000),
            "west": Decimal(5000000),
        }
        # a dimension split: by product line (Q1 is 1,200,000 since the weighted split)
        r = await client.post(
            f"/v1/goals/{quarters[0]['goal_id']}/split",
            json={
                "along": "dimension",
                "dimension": "product_line",
                "values": ["saas", "hardware"],
                "rule": "weights",
                "weights": {"saas": 2, "hardware": 1},
            },
            headers=admin,
        )
        assert r.status_code == 200, r.text
        assert {g["dimension"]: Decimal(g["target"]) for g in r.json()} == {
            "product_line=saas": Decimal(800000),
            "product_line=hardware": Decimal(400000),
        }
        # a rate is not additive: every part carries the parent's target
        rate = await goal(
            client,
            admin,
            metric="collection_rate",
            owner_kind="company",
            period="2026-Q1",
            target="0.9",
        )
        r = await client.post(
            f"/v1/goals/{rate['goal_id']}/split",
            json={"along": "time", "into": "month"},
            headers=admin,
        )
        assert {Decimal(m["target"]) for m in r.json()} == {Decimal("0.9")}
        # bad requests name the field
        r = await client.post(
            f"/v1/goals/{year['goal_id']}/split",
            json={"along": "time", "into": "year"},
            headers=admin,
        )
        assert r.status_code == 422
        r = await client.post(
            "/v1/goals",
            json={"metric": "nope", "owner_kind": "company", "period": "2026", "target": "1"},
            headers=admin,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "metric"
        r = await client.post(
            "/v1/goals",
            json={"metric": "visits", "owner_kind": "company", "period": "2026-Q5", "target": "1"},
            headers=admin,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "period"
        r = await client.post(
            "/v1/goals",
            json={
                "metric": "visits",
                "owner_kind": "team",
                "owner_id": "nobody",
                "period": "2026",
                "target": "1",
            },
            headers=admin,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "owner_id"
        r = await client.post(
            "/v1/goals",
            json={"metric": "visits", "owner_kind": "company", "period": "2026", "target": "0"},
            headers=admin,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "target"


async def test_history_share_proposals_versions_and_closed_periods(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        await configure_org(client, settings, tenant)
        admin = auth(settings, tenant, "admin")
        hr = auth(settings, tenant, "hr")
        for person, team in (("p-1", "east-a"), ("p-2", "west")):
            body = {"person_id": person, "team_id": team, "valid_from": "2025-01-01"}
            assert (
                await client.put("/v1/org/memberships", json=body, headers=hr)
            ).status_code == 204
        # last year: East A collected 300, West 100; February 2026: p-1 collected 100
        events = [
            activity("h-1", actor="p-1", amount="300.00", occurred_at="2025-05-05T10:00:00+08:00"),
            activity("h-2", actor="p-2", amount="100.00", occurred_at="2025-06-05T10:00:00+08:00"),
            activity("h-3", actor="p-1", amount="100.00", occurred_at="2026-02-05T10:00:00+08:00"),
        ]
        body, headers = signed(source["secret"], events)
        r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        assert r.status_code == 207, r.text

        async def counted() -> bool:
            r = await client.get(
                "/v1/totals", params={"company": "true", "period": "2025"}, headers=admin
            )
            return any(
                t["metric"] == "collected_revenue" and Decimal(t["actual"]) == 400 for t in r.json()
            )

        await eventually(counted)
        year = await goal(
            client,
            admin,
            metric="collected_revenue",
            owner_kind="company",
            period="2026",
            target="1000000",
        )
        r = await client.post(
            f"/v1/goals/{year['goal_id']}/split",
            json={"along": "org", "rule": "history"},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        assert targets(r.json()) == {"east": Decimal(750000), "west": Decimal(250000)}
        east = next(g for g in r.json() if g["owner_id"] == "east")
        west = next(g for g in r.json() if g["owner_id"] == "west")
        # no history for the months of 2026 a year earlier: refused with the reason
        r = await client.post(
            f"/v1/goals/{year['goal_id']}/split",
            json={"along": "time", "into": "quarter", "rule": "history"},
            headers=admin,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rule"

        # bottom-up: East's manager proposes 800,000; the admin approves, West absorbs it
        manager = auth(settings, tenant, "manager", subject="m-east")
        r = await client.post(
            f"/v1/goals/{east['goal_id']}/proposals",
            json={"target": "800000", "reason": "new key account"},
            headers=manager,
        )
        assert r.status_code == 201, r.text
        proposal = r.json()
        r = await client.post(
            f"/v1/proposals/{proposal['proposal_id']}/approve",
            json={"reason": "ok"},
            headers=manager,
        )
        assert r.status_code == 403  # not one's own proposal
        r = await client.post(
            f"/v1/proposals/{proposal['proposal_id']}/approve",
            json={"reason": "agreed", "offset_goal_id": west["goal_id"]},
            headers=admin,
        )
        assert r.status_code == 200 and r.json()["status"] == "approved", r.text
        r = await client.get(f"/v1/goals/{year['goal_id']}/children", headers=admin)
        assert targets(r.json()) == {"east": Decimal(800000), "west": Decimal(200000)}
        r = await client.get(f"/v1/goals/{year['goal_id']}", headers=admin)
        assert Decimal(r.json()["children_difference"]) == 0
        # without an offset the parents roll up
        r = await client.post(
            f"/v1/goals/{west['goal_id']}/proposals",
            json={"target": "300000", "reason": "x"},
            headers=auth(settings, tenant, "manager", subject="m-west"),
        )
        r = await client.post(
            f"/v1/proposals/{r.json()['proposal_id']}/approve", json={}, headers=admin
        )
        assert r.status_code == 200
        r = await client.get(f"/v1/goals/{year['goal_id']}", headers=admin)
        assert (
            Decimal(r.json()["target"]) == Decimal(1100000)
            and Decimal(r.json()["children_difference"]) == 0
        )
        # a rejected proposal changes nothing
        r = await client.post(
            f"/v1/goals/{west['goal_id']}/proposals",
            json={"target": "1", "reason": "y"},
            headers=auth(settings, tenant, "manager", subject="m-west"),
        )
        r = await client.post(
            f"/v1/proposals/{r.json()['proposal_id']}/reject", json={"reason": "no"}, headers=admin
        )
        assert r.json()["status"] == "rejected"
        # every change is versioned: who, when, why
        r = await client.get(f"/v1/goals/{west['goal_id']}/history", headers=admin)
        assert [(v["version"], Decimal(v["target"]), v["changed_by"]) for v in r.json()] == [
            (1, Decimal(250000), "tester"),
            (2, Decimal(200000), "tester"),
            (3, Decimal(300000), "tester"),
        ]
        assert (
            r.json()[0]["change"] == "split:org:history"
            and "new key account" in r.json()[1]["reason"]
        )

        # SMART: more than 2x last period's actual is warned about
        march = await goal(
            client,
            admin,
            metric="collected_revenue",
            owner_kind="person",
            owner_id="p-1",
            period="2026-03",
            target="250",
        )
        assert [w["code"] for w in march["warnings"]] == ["far_above_history"]
        march = await goal(
            client,
            admin,
            metric="collected_revenue",
            owner_kind="person",
            owner_id="p-1",
            period="2026-03",
            target="150",
        )
        assert march["warnings"] == []
        # a closed period is immutable
        r = await client.post(
            "/v1/periods/2026-03/close", headers=auth(settings, tenant, "finance")
        )
        assert r.status_code == 200 and r.json()["closed"] is True
        r = await client.post(
            "/v1/goals",
            json={
                "metric": "collected_revenue",
                "owner_kind": "person",
                "owner_id": "p-1",
                "period": "2026-03",
                "target": "1",
            },
            headers=admin,
        )
        assert r.status_code == 409 and r.json()["errors"][0]["field"] == "period"
