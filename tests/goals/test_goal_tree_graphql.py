"""The goal tree and leaderboards over GraphQL: figures that add up, access by role, and no N+1 —
the SQL statements a tree costs do not grow with the number of people in it."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from shared.settings import BaseServiceSettings
from tests.helpers import (
    activity,
    auth,
    create_tenant_and_source,
    eventually,
    graphql,
    make_settings,
    running,
    signed,
)

METRIC = "collected_revenue"
PERIOD = "2026-Q1"
# The most statements a three-level tree may cost, however many people it has (26 measured).
STATEMENT_BOUND = 30

TREE = """query($k: String!, $o: String!, $p: String!, $m: String!) {
  goalTree(ownerKind: $k, ownerId: $o, period: $p, metric: $m) {
    goalId ownerKind ownerId period target effectiveTarget actual attainment
    childrenTotal childrenDifference version
    children {
      ownerKind ownerId target actual attainment childrenTotal childrenDifference
      children {
        ownerKind ownerId period periodStart periodEnd target actual attainment
        elapsed expected projectedAttainment
      }
    }
  }
}"""

BOARD = """query($m: String!, $p: String!, $t: String, $n: Int) {
  leaderboard(metric: $m, period: $p, teamId: $t, limit: $n) {
    rank personId actual target attainment
  }
}"""

# Payments of Q1 (each person's goal is 100,000): equal attainments tie on the leaderboard.
PAID = {
    "pa01": ["150000.00"],
    "pa02": ["120000.00"],
    "pa03": ["60000.00", "60000.00"],
    "pa04": ["90000.00"],
    "pb01": ["200000.00"],
    "pb02": ["50000.00"],
    "px": ["500000.00"],  # in no team and without a goal: the company's, ranked after goal holders
}

# Statements issued by the GraphQL request being measured (the workers' own are not counted).
_MEASURING: contextvars.ContextVar[bool] = contextvars.ContextVar("measuring", default=False)


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def before_cursor_execute(  # type: ignore[no-untyped-def]
        conn, cursor, statement, parameters, context, executemany
    ) -> None:
        if _MEASURING.get():
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before_cursor_execute)
    token = _MEASURING.set(True)
    try:
        yield seen
    finally:
        _MEASURING.reset(token)
        event.remove(engine.sync_engine, "before_cursor_execute", before_cursor_execute)


def people(team: str, n: int) -> list[str]:
    return [f"p{team[-1]}{i:02d}" for i in range(1, n + 1)]


async def build_org(
    client: httpx.AsyncClient,
    settings: BaseServiceSettings,
    tenant: uuid.UUID,
    sizes: dict[str, int],
    company_target: str,
) -> None:
    """Company → teams (managed by m-a, m-b, …) → people; a Q1 goal split along the org twice."""
    hr = auth(settings, tenant, "hr")
    admin = auth(settings, tenant, "admin")
    for team in sizes:
        body = {"name": team.title(), "manager_id": f"m-{team[-1]}"}
        r = await client.put(f"/v1/org/teams/{team}", json=body, headers=hr)
        assert r.status_code == 204, r.text
    for team, n in sizes.items():
        for person in people(team, n):
            body = {"person_id": person, "team_id": team, "valid_from": "2026-01-01"}
            r = await client.put("/v1/org/memberships", json=body, headers=hr)
            assert r.status_code == 204, r.text
    r = await client.post(
        "/v1/goals",
        json={
            "metric": METRIC,
            "owner_kind": "company",
            "period": PERIOD,
            "target": company_target,
            "reason": "board plan",
        },
        headers=admin,
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/v1/goals/{r.json()['goal_id']}/split", json={"along": "org"}, headers=admin
    )
    assert r.status_code == 200, r.text
    for team_goal in r.json():
        r = await client.post(
            f"/v1/goals/{team_goal['goal_id']}/split", json={"along": "org"}, headers=admin
        )
        assert r.status_code == 200, r.text


async def tree(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    kind: str = "company",
    owner: str = "company",
) -> Any:
    data = await graphql(client, headers, TREE, k=kind, o=owner, p=PERIOD, m=METRIC)
    return data["goalTree"]


async def measured_tree(
    client: httpx.AsyncClient, engine: AsyncEngine, headers: dict[str, str], **kw: str
) -> tuple[Any, int]:
    with statements(engine) as seen:
        root = await tree(client, headers, **kw)
    return root, len(seen)


async def board(
    client: httpx.AsyncClient, headers: dict[str, str], team: str | None = None, n: int = 20
) -> list[dict[str, Any]]:
    data = await graphql(client, headers, BOARD, m=METRIC, p=PERIOD, t=team, n=n)
    entries: list[dict[str, Any]] = data["leaderboard"]
    return entries


def ranks(entries: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(e["rank"], e["personId"]) for e in entries]


async def test_goal_tree_figures_access_and_statement_count(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    app = create_app(settings)
    async with running(app) as client:
        engine: AsyncEngine = app.state.runtime.engine
        big, source = await create_tenant_and_source(client, settings)
        small, _ = await create_tenant_and_source(client, settings)
        await build_org(client, settings, big, {"team-a": 25, "team-b": 25}, "5000000")
        await build_org(client, settings, small, {"team-a": 3, "team-b": 2}, "600000")
        admin = auth(settings, big, "admin")
        hr = auth(settings, big, "hr")
        # A sub-team of team-b with a member who has no goal (created after the splits).
        r = await client.put(
            "/v1/org/teams/team-b-east",
            json={"name": "B East", "parent_team_id": "team-b", "manager_id": "m-be"},
            headers=hr,
        )
        assert r.status_code == 204, r.text
        body = {"person_id": "pbx", "team_id": "team-b-east", "valid_from": "2026-01-01"}
        assert (await client.put("/v1/org/memberships", json=body, headers=hr)).status_code == 204

        events = [
            activity(
                f"pay-{person}-{i}",
                actor=person,
                amount=amount,
                occurred_at=f"2026-02-{10 + i:02d}T10:00:00+08:00",
            )
            for person, amounts in PAID.items()
            for i, amount in enumerate(amounts)
        ]
        payload, headers = signed(source["secret"], events)
        r = await client.post(
            f"/v1/webhooks/{source['source_id']}", content=payload, headers=headers
        )
        assert r.status_code == 207, r.text
        paid = {person: sum(map(Decimal, amounts)) for person, amounts in PAID.items()}

        async def company_counted() -> bool:
            r = await client.get(
                "/v1/totals", params={"company": "true", "period": PERIOD}, headers=admin
            )
            return any(
                t["metric"] == METRIC and Decimal(t["actual"]) == sum(paid.values())
                for t in r.json()
            )

        await eventually(company_counted)

        # --- the tree, three levels deep -------------------------------------------------------
        root, big_count = await measured_tree(client, engine, admin)
        assert (root["ownerKind"], root["ownerId"], root["period"]) == (
            "company",
            "company",
            PERIOD,
        )
        assert Decimal(root["target"]) == Decimal(5000000) == Decimal(root["effectiveTarget"])
        assert Decimal(root["actual"]) == sum(paid.values())
        assert Decimal(root["childrenTotal"]) == Decimal(5000000)
        assert Decimal(root["childrenDifference"]) == 0 and root["version"] == 1
        teams = {t["ownerId"]: t for t in root["children"]}
        assert set(teams) == {"team-a", "team-b"}
        for team_id, team in teams.items():
            assert team["ownerKind"] == "team"
            assert Decimal(team["target"]) == Decimal(2500000)
            kids = team["children"]
            assert [k["ownerId"] for k in kids] == people(team_id, 25)
            assert {k["ownerKind"] for k in kids} == {"person"}
            assert {Decimal(k["target"]) for k in kids} == {Decimal(100000)}
            assert sum(Decimal(k["target"]) for k in kids) == Decimal(team["target"])
            assert Decimal(team["childrenTotal"]) == Decimal(team["target"])
            assert Decimal(team["childrenDifference"]) == 0
            for k in kids:
                assert Decimal(k["actual"]) == paid.get(k["ownerId"], Decimal(0)), k
                assert Decimal(k["attainment"]) == Decimal(k["actual"]) / Decimal(100000)
                assert (k["period"], k["periodStart"], k["periodEnd"]) == (
                    PERIOD,
                    "2026-01-01",
                    "2026-03-31",
                )
                assert k["elapsed"] is not None
            assert Decimal(team["actual"]) == sum(Decimal(k["actual"]) for k in kids)
        assert Decimal(teams["team-a"]["actual"]) == Decimal(480000)
        assert Decimal(teams["team-b"]["actual"]) == Decimal(250000)
        assert Decimal(teams["team-b"]["attainment"]) == Decimal("0.1")

        # --- no N+1: 5 people cost what 50 people cost ------------------------------------------
        small_root, small_count = await measured_tree(
            client, engine, auth(settings, small, "admin")
        )
        assert sum(len(t["children"]) for t in small_root["children"]) == 5
        # root 3; per level: the children (2) and one goal_figures call (~6); a fixed total
        assert big_count <= STATEMENT_BOUND, big_count
        assert abs(big_count - small_count) <= 1, (big_count, small_count)
        # A manager's visibility is worked out once per request, not per person.
        _, manager_count = await measured_tree(
            client,
            engine,
            auth(settings, big, "manager", subject="m-a"),
            kind="team",
            owner="team-a",
        )
        _, small_manager_count = await measured_tree(
            client,
            engine,
            auth(settings, small, "manager", subject="m-a"),
            kind="team",
            owner="team-a",
        )
        assert manager_count <= STATEMENT_BOUND and abs(manager_count - small_manager_count) <= 1, (
            manager_count,
            small_manager_count,
        )

        # --- access ---------------------------------------------------------------------------
        manager_a = auth(settings, big, "manager", subject="m-a")
        r = await client.post(
            "/graphql",
            json={
                "query": TREE,
                "variables": {"k": "company", "o": "company", "p": PERIOD, "m": METRIC},
            },
            headers=manager_a,
        )
        errors = r.json()["errors"]
        assert "forbidden" in errors[0]["message"].lower()
        assert errors[0]["extensions"]["status"] == 403
        assert r.json()["data"] == {"goalTree": None}
        team_a = await tree(client, manager_a, "team", "team-a")
        assert [k["ownerId"] for k in team_a["children"]] == people("team-a", 25)
        assert Decimal(team_a["children"][0]["actual"]) == Decimal(150000)
        r = await client.post(
            "/graphql",
            json={
                "query": TREE,
                "variables": {"k": "team", "o": "team-b", "p": PERIOD, "m": METRIC},
            },
            headers=manager_a,
        )
        assert r.json()["errors"][0]["extensions"]["status"] == 403
        # a rep sees their own goal, not their team's
        rep = auth(settings, big, "rep", subject="pa01")
        own = await tree(client, rep, "person", "pa01")
        assert Decimal(own["actual"]) == Decimal(150000) and own["children"] == []
        r = await client.post(
            "/graphql",
            json={
                "query": TREE,
                "variables": {"k": "team", "o": "team-a", "p": PERIOD, "m": METRIC},
            },
            headers=rep,
        )
        assert r.json()["errors"][0]["extensions"]["status"] == 403
        # no goal: null
        data = await graphql(client, admin, TREE, k="company", o="company", p="2026-Q2", m=METRIC)
        assert data["goalTree"] is None

        # --- leaderboards ---------------------------------------------------------------------
        everyone = await board(client, rep, n=100)
        assert ranks(everyone)[:6] == [
            (1, "pb01"),
            (2, "pa01"),
            (3, "pa02"),
            (3, "pa03"),  # a tie shares the rank …
            (5, "pa04"),  # … and the next rank is skipped
            (6, "pb02"),
        ]
        assert Decimal(everyone[2]["attainment"]) == Decimal(everyone[3]["attainment"])
        assert Decimal(everyone[2]["attainment"]) == Decimal("1.2")
        assert {e["rank"] for e in everyone[6:50]} == {7}  # 44 goal holders with nothing yet
        # without a goal: after every goal holder, by actual
        assert ranks(everyone)[50:] == [(51, "px"), (52, "pbx")]
        assert everyone[50]["target"] is None and Decimal(everyone[50]["actual"]) == 500000
        assert len(everyone) == 52
        first = everyone[0]
        assert Decimal(first["target"]) == Decimal(100000)
        assert Decimal(first["actual"]) == Decimal(200000)
        assert Decimal(first["attainment"]) == 2

        team_a_board = await board(client, rep, "team-a", n=4)
        assert ranks(team_a_board) == [(1, "pa01"), (2, "pa02"), (2, "pa03"), (4, "pa04")]
        team_b_board = await board(client, rep, "team-b", n=100)
        assert ranks(team_b_board)[:2] == [(1, "pb01"), (2, "pb02")]
        assert len(team_b_board) == 26 and team_b_board[-1]["personId"] == "pbx"  # sub-team
        sub_team = await board(client, rep, "team-b-east")
        assert ranks(sub_team) == [(1, "pbx")]
        r = await client.post(
            "/graphql",
            json={"query": BOARD, "variables": {"m": METRIC, "p": PERIOD, "t": "nope"}},
            headers=rep,
        )
        assert r.json()["errors"][0]["extensions"]["status"] == 404
        # every tenant has its own board
        other = await board(client, auth(settings, small, "rep", subject="pa01"), n=100)
        assert {e["personId"] for e in other} == {"pa01", "pa02", "pa03", "pb01", "pb02"}

        # --- children the caller may not see are left out ---------------------------------------
        # pa25 turns out to have been in team-b all quarter: m-a no longer sees their goal.
        body = {"person_id": "pa25", "team_id": "team-b", "valid_from": "2026-01-01"}
        assert (await client.put("/v1/org/memberships", json=body, headers=hr)).status_code == 204
        team_a = await tree(client, manager_a, "team", "team-a")
        assert [k["ownerId"] for k in team_a["children"]] == people("team-a", 24)
        team_a = await tree(client, admin, "team", "team-a")
        assert [k["ownerId"] for k in team_a["children"]] == people("team-a", 25)
