"""The Northwind demo (`make demo`): seeded through the public API into the all-in-one app on real
PostgreSQL, then fed by the simulated CRM through the signed webhook; the figures must follow."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from allinone.app import create_app
from allinone.demo import DemoTenant, Simulator, seed_demo, stream_events
from allinone.demo.__main__ import demo_session, save_state, state_key
from allinone.demo.company import people as northwind_people
from shared.db.bootstrap import DatabaseUrls
from shared.events.activity import ActivityEvent
from shared.settings import BaseServiceSettings
from tests.helpers import eventually, graphql, make_settings, running

LEADERBOARD = """query($m: String!, $p: String!) {
  leaderboard(metric: $m, period: $p, limit: 50) { rank personId name actual target attainment }
}"""
GOAL_TREE = """query($p: String!) {
  goalTree(ownerKind: "company", period: $p, metric: "collected_revenue") {
    target childrenDifference children { ownerId target childrenDifference }
  }
}"""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def get(client: httpx.AsyncClient, path: str, token: str, **params: Any) -> Any:
    r = await client.get(path, params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()


async def goal_tree(client: httpx.AsyncClient, token: str, goal: dict[str, Any]) -> dict[str, Any]:
    """The goal and its descendants as {"goal", "children"}, checking at every level that the
    children add up to their parent exactly."""
    kids = await get(client, f"/v1/goals/{goal['goal_id']}/children", token)
    if kids:
        assert sum(Decimal(k["target"]) for k in kids) == Decimal(goal["target"]), goal
    return {"goal": goal, "children": [await goal_tree(client, token, k) for k in kids]}


def flatten(tree: dict[str, Any]) -> list[dict[str, Any]]:
    return [tree["goal"], *(g for c in tree["children"] for g in flatten(c))]


async def snapshot(client: httpx.AsyncClient, demo: DemoTenant) -> dict[str, Any]:
    """What the seed made, as the API shows it (compared before and after seeding again)."""
    admin = demo.admin_token
    company = await get(client, f"/v1/goals/{demo.company_goal_id}", admin)
    tree = await goal_tree(client, admin, company)
    templates = await get(client, "/v1/scorecard-templates", admin)
    return {
        "people": await get(client, "/v1/org/people", admin),
        "goals": sorted((g["goal_id"], g["target"], g["version"]) for g in flatten(tree)),
        "templates": sorted(t["key"] for t in templates if t["origin"] == "tenant"),
        "tree": tree,
    }


async def check_seeded(
    client: httpx.AsyncClient, settings: BaseServiceSettings, demo: DemoTenant, seen: dict[str, Any]
) -> None:
    admin = demo.admin_token
    # 30 people over the spec's roles, reporting up real lines: region → its manager → the VP.
    people = {p["person_id"]: p for p in seen["people"]}
    assert len(people) == 30
    assert Counter(p["role"] for p in people.values()) == {
        "new_business_rep": 15,
        "account_manager": 6,
        "regional_manager": 3,
        "sales_assistant": 3,
        "manager": 1,
        "hr": 1,
        "finance": 1,
    }
    assert len(demo.teams) == 3
    for team in demo.teams:
        assert people[team.manager_id]["role"] == "regional_manager"
        assert people[team.manager_id]["manager_id"] == "p-1000"
        members = [p for p in demo.people if p.team_id == team.team_id]
        assert len(members) == 9
        for p in members:
            if p.person_id != team.manager_id:
                assert people[p.person_id]["manager_id"] == team.manager_id
    assert people["p-1035"]["active_from"] == f"{demo.year}-07-01"  # a joiner: prorated targets

    # The company's yearly collected revenue → the three regions → 21 quota carriers → quarters →
    # months, adding up at every level (checked while walking it).
    tree = seen["tree"]
    assert Decimal(tree["goal"]["target"]) == Decimal(48_000_000)
    regions = {c["goal"]["owner_id"]: c for c in tree["children"]}
    assert set(regions) == {"t-east", "t-north", "t-south"}
    assert Decimal(regions["t-east"]["goal"]["target"]) == Decimal(19_200_000)
    carriers = [p for r in regions.values() for p in r["children"]]
    assert len(carriers) == 21
    east = {
        p["goal"]["owner_id"]: Decimal(p["goal"]["target"]) for p in regions["t-east"]["children"]
    }
    assert east["p-1016"] > east[demo.rep_id] > east["p-1017"]  # key account > rep > success
    for person in carriers:
        assert [q["goal"]["period"] for q in person["children"]] == [
            f"{demo.year}-Q{i}" for i in range(1, 5)
        ]
        assert all(len(q["children"]) == 3 for q in person["children"])
    assert len(seen["goals"]) == 1 + 3 + 21 + 21 * 4 + 21 * 12
    # The same through GraphQL, as a dashboard reads it.
    data = await graphql(client, bearer(admin), GOAL_TREE, p=str(demo.year))
    assert Decimal(data["goalTree"]["childrenDifference"]) == 0
    assert {c["ownerId"] for c in data["goalTree"]["children"]} == set(regions)
    # New customers go down to the reps, visits to everyone carrying a quota.
    reps = await get(
        client, "/v1/goals", admin, owner_kind="person", owner_id=demo.rep_id, period=demo.year
    )
    assert {g["metric"] for g in reps} == {"collected_revenue", "new_customers", "effective_visits"}

    # Scorecards from Northwind's copies of the shipped role templates, for the quarter and month.
    assert seen["templates"] == [
        "nw_account_manager",
        "nw_new_business_rep",
        "nw_regional_manager",
        "nw_sales_assistant",
    ]
    for person_id, template in (
        (demo.rep_id, "nw_new_business_rep"),
        ("p-1016", "nw_account_manager"),
        (demo.manager_id, "nw_regional_manager"),
        ("p-1018", "nw_sales_assistant"),
    ):
        for period in (demo.quarter, demo.month):
            card = await get(client, "/v1/scorecards", admin, person_id=person_id, period=period)
            assert card["template"] == template
    # The quarter's 360°: the manager has rated, a peer is still to answer; HR entered the
    # regional managers' manual items.
    card = await get(client, "/v1/scorecards", admin, person_id=demo.rep_id, period=demo.quarter)
    qualitative = [i for i in card["items"] if i["kind"] == "qualitative"]
    assert qualitative and all(i["status"] == "scored" for i in qualitative), qualitative
    assert all(i["explanation"]["group_means"].keys() == {"manager"} for i in qualitative)
    todo = await get(client, "/v1/reviews/todo", demo.token_for(settings, "p-1012"))
    assert [(t["person_id"], t["group"]) for t in todo] == [(demo.rep_id, "peer")]
    card = await get(client, "/v1/scorecards", admin, person_id="p-1020", period=demo.quarter)
    manual = {i["key"]: i for i in card["items"] if i["kind"] == "manual"}
    assert {k: i["status"] for k, i in manual.items()} == {
        "market_share": "scored",
        "revenue_per_head": "scored",
    }
    # The scorecard items have targets of their own for the period (imported).
    month_goals = await get(
        client, "/v1/goals", admin, owner_kind="person", owner_id=demo.rep_id, period=demo.month
    )
    assert {"collected_revenue", "new_customer_revenue", "new_customers"} <= {
        g["metric"] for g in month_goals
    }

    # Pay plans by role (the roles reach incentives over the bus): every statement names its plan.
    async def plans() -> bool:
        for person_id, plan in (
            (demo.rep_id, "nw-sales-commission"),
            ("p-1017", "nw-account-commission"),
            (demo.manager_id, "nw-manager-bonus"),
            ("p-1000", "nw-manager-bonus"),
            ("p-1038", "nw-presales-bonus"),
        ):
            period = demo.quarter if plan == "nw-manager-bonus" else demo.month
            r = await client.get(
                "/v1/statements",
                params={"person_id": person_id, "period": period},
                headers=bearer(admin),
            )
            if r.status_code != 200 or r.json()["plan"]["key"] != plan:
                return False
        return True

    await eventually(plans, timeout=30)
    # The early-warning thresholds are the tenant's.
    alerts = await get(client, "/v1/alerts/settings", admin)
    assert alerts["thresholds"]["burst_floor"] == 400
    # A rep sees their own figures and no one else's.
    r = await client.get(
        "/v1/statements",
        params={"person_id": "p-1012", "period": demo.month},
        headers=bearer(demo.rep_token),
    )
    assert r.status_code == 403
    assert demo.token_for(settings, "p-1012") != demo.rep_token


async def test_demo_is_seeded_through_the_api_and_the_stream_moves_the_figures(
    database: DatabaseUrls, tmp_path: Path
) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        started = time.monotonic()
        demo = await seed_demo(client, settings)
        seeded_in = time.monotonic() - started
        first = await snapshot(client, demo)
        await check_seeded(client, settings, demo, first)

        # Seeding again changes nothing and duplicates nothing: here as `make demo` does it a
        # second time, with the tenant and source it remembered from the first.
        state = tmp_path / "demo-tenant.json"
        save_state(state, state_key(None), demo)
        args = argparse.Namespace(
            state=str(state), url=None, fresh=False, year=None, backfill=None, rate=0, count=None
        )
        again = await demo_session(client, "http://test", settings, args)
        assert again.tenant_id == demo.tenant_id and again.source_id == demo.source_id
        assert again.company_goal_id == demo.company_goal_id
        second = await snapshot(client, again)
        assert second["people"] == first["people"]
        assert second["goals"] == first["goals"]  # same ids, targets and versions
        assert second["templates"] == first["templates"]
        history = await get(client, f"/v1/goals/{demo.company_goal_id}/history", demo.admin_token)
        assert len(history) == 1
        statement = await get(
            client,
            "/v1/statements",
            demo.admin_token,
            person_id=demo.rep_id,
            period=demo.month,
        )
        assert statement["plan"]["version"] == 1

        # 40 seeded events spread over the year, through the real webhook, signed with the
        # secret the second seed issued (the first keeps verifying during its grace period).
        seen: list[dict[str, Any]] = []
        stats = await stream_events(
            client,
            again.source_id,
            again.secret,
            again.people,
            rate=0,
            count=40,
            seed=7,
            on_event=lambda event, status: seen.append(event),
        )
        assert (stats.sent, stats.accepted, stats.rejected) == (40, 40, 0), stats.errors
        assert stats.by_type["payment_received"] > 0
        assert stats.collected > 0
        admin = demo.admin_token

        # The company's collected revenue is exactly what was paid, less what was refunded.
        async def company_actual() -> bool:
            goal = await get(client, f"/v1/goals/{demo.company_goal_id}", admin)
            return goal["actual"] is not None and Decimal(goal["actual"]) == stats.collected

        await eventually(company_actual, timeout=45)
        # Each person's yearly actual too (credit splits included).
        for person_id, amount in stats.collected_by_person.items():
            totals = await get(
                client, "/v1/totals", admin, person_id=person_id, period=str(demo.year)
            )
            actual = {t["metric"]: t["actual"] for t in totals}["collected_revenue"]
            assert Decimal(actual) == amount, person_id

        # A rep's statement for a month they were paid in shows commission on that payment,
        # against the month's quota from the decomposed goals.
        refunded = {e["refers_to"] for e in seen if e["type"] == "refund"}
        payment = next(
            e
            for e in seen
            if e["type"] == "payment_received"
            and not e.get("credit_split")
            and e["id"] not in refunded
            and again.person(e["actor_id"]).role == "new_business_rep"
        )
        month = payment["occurred_at"][:7]
        rep = payment["actor_id"]

        async def commission() -> dict[str, Any] | None:
            st = await get(client, "/v1/statements", admin, person_id=rep, period=month)
            line = next(x for x in st["lines"] if x["type"] == "tiered")
            paid = payment["id"] in line["explanation"]["events"] and Decimal(st["base"]) > 0
            amount = Decimal(line["amount"] or 0)
            return st if paid and st["quota"] and amount > 0 else None

        st = await eventually(commission, timeout=30)
        assert st["plan"]["key"] == "nw-sales-commission"
        own = await get(
            client, "/v1/statements", again.token_for(settings, rep), person_id=rep, period=month
        )
        assert own["total"] == st["total"]

        # The company leaderboard (GraphQL) ranks the people who collected, with attainment.
        async def leaderboard() -> list[dict[str, Any]] | None:
            data = await graphql(
                client, bearer(demo.rep_token), LEADERBOARD, m="collected_revenue", p=str(demo.year)
            )
            ranked = [e for e in data["leaderboard"] if e["attainment"] is not None]
            paid = {p for p, v in stats.collected_by_person.items() if v > 0}
            return (
                ranked if paid <= {e["personId"] for e in ranked if Decimal(e["actual"])} else None
            )

        ranked = await eventually(leaderboard, timeout=30)
        assert ranked[0]["rank"] == 1 and ranked[0]["name"]
        assert Decimal(ranked[0]["attainment"]) > 0
        # Seeding takes seconds, not minutes (the whole test stays well under a minute).
        assert seeded_in < 40, seeded_in


def test_the_simulated_crm_is_valid_consistent_and_reproducible() -> None:
    """Without a server: every event is a valid canonical event; deals move lead → won → invoice
    in order; refunds and corrections point at earlier events; a seed repeats itself exactly."""
    tz = ZoneInfo("Asia/Shanghai")
    start, now = datetime(2026, 1, 1, tzinfo=tz), datetime(2026, 11, 20, 12, tzinfo=tz)
    people = northwind_people(2026)

    def run(seed: int) -> list[dict[str, Any]]:
        sim = Simulator(people, seed=seed)
        sim.warm_start(start)
        return [sim.next_event(start + (now - start) * (i / 600), now) for i in range(600)]

    events = run(11)
    assert events == run(11)
    assert {e["id"] for e in run(12)}.isdisjoint(e["id"] for e in events)
    assert len({e["id"] for e in events}) == len(events)
    seen: dict[str, dict[str, Any]] = {}
    stages: dict[str, list[str]] = {}
    for e in events:
        ActivityEvent.model_validate(e)
        assert e["occurred_at"] <= e["recorded_at"] <= now.isoformat()
        if e.get("refers_to"):
            assert e["refers_to"] in seen, e  # refunds and corrections follow what they fix
            kind = seen[e["refers_to"]]["type"]
            assert kind == ("payment_received" if e["type"] == "refund" else "visit"), e
        if e.get("deal_id"):
            stages.setdefault(e["deal_id"], []).append(e["type"])
        seen[e["id"]] = e
    order = ["lead_created", "first_contact", "quote_sent", "deal_won", "invoice_issued"]
    for history in stages.values():
        steps = [order.index(t) for t in history if t in order]
        assert steps == sorted(steps), history
    kinds = Counter(e["type"] for e in events)
    for kind in ("payment_received", "refund", "record_updated", "visit", "deal_won"):
        assert kinds[kind] > 0, kinds
    # Nobody records anything before they joined.
    joined = {p.person_id: p.active_from for p in people}
    for e in events:
        day = datetime.fromisoformat(e["occurred_at"]).date()
        assert joined[e["actor_id"]] is None or joined[e["actor_id"]] <= day, e
