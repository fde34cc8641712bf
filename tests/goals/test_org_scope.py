"""A manager sees the people of the teams they manage, transitively, as of the period asked
about — in every service (scoring and incentives learn the reporting lines over the bus)."""

from __future__ import annotations

import uuid

import httpx

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from tests.e2e.slice import configure_org
from tests.helpers import auth, eventually, make_settings, running

QUERY = """query($p: String!, $m: String!) {
  kpiTotals(personId: $p, month: $m) { metric }
  scores(personId: $p, month: $m) { metric }
  commissions(personId: $p, month: $m) { currency }
}"""


async def sees(client: httpx.AsyncClient, headers: dict[str, str], person: str, month: str) -> bool:
    """Through REST in every service and GraphQL: all agree, or the test fails."""
    params = {"person_id": person, "month": month}
    rest = {
        (await client.get(path, params=params, headers=headers)).status_code
        for path in ("/v1/totals", "/v1/scores", "/v1/commissions")
    }
    body = (
        await client.post(
            "/graphql",
            json={"query": QUERY, "variables": {"p": person, "m": month}},
            headers=headers,
        )
    ).json()
    statuses = {e["extensions"]["status"] for e in body.get("errors") or []}
    assert rest in ({200}, {403}), rest
    assert statuses in (set(), {403}), body
    assert (rest == {200}) == (not statuses), (rest, statuses)
    return rest == {200}


async def test_managers_see_their_teams_transitively_as_of_the_period(
    database: DatabaseUrls,
) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant = uuid.uuid4()
        await configure_org(client, settings, tenant)

        def manager(name: str) -> dict[str, str]:
            return auth(settings, tenant, "manager", subject=name)

        # scoring and incentives receive the reporting lines over the bus
        await eventually(lambda: sees(client, manager("m-east"), "p-1", "2026-03"))

        assert await sees(client, manager("m-a"), "p-1", "2026-03")
        assert not await sees(client, manager("m-west"), "p-1", "2026-03")
        # p-2 moved from West to East A on 16 March
        assert await sees(client, manager("m-west"), "p-2", "2026-02")
        assert await sees(client, manager("m-west"), "p-2", "2026-03")
        assert not await sees(client, manager("m-west"), "p-2", "2026-04")
        assert not await sees(client, manager("m-east"), "p-2", "2026-02")
        assert await sees(client, manager("m-east"), "p-2", "2026-04")
        # a manager without teams, and a rep, see only themselves
        assert not await sees(client, manager("m-none"), "p-1", "2026-03")
        assert await sees(client, manager("m-none"), "m-none", "2026-03")
        assert not await sees(
            client, auth(settings, tenant, "rep", subject="p-2"), "p-1", "2026-03"
        )
