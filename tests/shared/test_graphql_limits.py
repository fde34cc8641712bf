"""GraphQL hardening: a query deeper, wider, more aliased or costlier than the limits is refused
with a clear error before anything runs; introspection is off in production."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from allinone.app import SERVICES
from shared.db.bootstrap import DatabaseUrls
from shared.service import create_app
from tests.helpers import auth, make_settings, running

COMMISSIONS = '{ commissions(personId: "p-1", month: "2026-03") { currency lines { base rate } } }'


async def ask(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> dict[str, Any]:
    r = await client.post("/graphql", json={"query": query}, headers=headers)
    return dict(r.json())


def messages(body: dict[str, Any]) -> str:
    return " | ".join(e["message"] for e in body.get("errors", []))


ALIASES = " ".join(
    f'a{i}: kpiTotals(personId: "p", month: "2026-03") {{ metric }}' for i in range(4)
)
WIDE = " ".join(['kpiTotals(personId: "p", month: "2026-03") { metric }'] * 40)
COSTLY = 'kpiTotals(personId: "p", month: "2026-03") { metric actual target attainment eventCount periodStart }'


@pytest.mark.parametrize(
    ("limit", "query", "message"),
    [
        ({"graphql_max_depth": 1}, COMMISSIONS, "exceeds maximum operation depth of 1"),
        ({"graphql_max_aliases": 3}, "{ " + ALIASES + " }", "4 aliases found. Allowed: 3"),
        ({"graphql_max_tokens": 300}, "{ " + WIDE + " }", "document contains more than 300 tokens"),
        (
            {"graphql_max_cost": 100},
            "{ " + COSTLY + " }",
            "query cost 121 exceeds the limit of 100",
        ),
    ],
    ids=["depth", "aliases", "tokens", "cost"],
)
async def test_limits_refuse_with_a_clear_error(
    database: DatabaseUrls, limit: dict[str, int], query: str, message: str
) -> None:
    settings = make_settings(database, **limit)
    async with running(create_app(settings, SERVICES, title="t")) as client:
        headers = auth(settings, uuid.uuid4(), "admin")
        ok = await ask(
            client, headers, '{ kpiTotals(personId: "p-1", month: "2026-03") { metric } }'
        )
        assert ok == {"data": {"kpiTotals": []}}
        refused = await ask(client, headers, query)
        assert message.lower() in messages(refused).lower(), messages(refused)
        assert refused.get("data") is None


async def test_refusals_carry_their_status_and_internal_errors_are_masked(
    database: DatabaseUrls,
) -> None:
    settings = make_settings(database)
    async with running(create_app(settings, SERVICES, title="t")) as client:
        rep = auth(settings, uuid.uuid4(), "rep", subject="p-1")
        body = await ask(client, rep, '{ kpiTotals(personId: "p-2", month: "2026-03") { metric } }')
        (error,) = body["errors"]
        assert error["message"].startswith("you may only see your own figures")
        assert error["extensions"]["status"] == 403
        bad = await ask(client, rep, '{ kpiTotals(personId: "p-1", month: "2026-13") { metric } }')
        assert bad["errors"][0]["message"] == "Internal error."  # a ValueError deep inside: masked


async def test_introspection_is_off_in_production(database: DatabaseUrls) -> None:
    settings = make_settings(
        database, env="production", jwt_secret="s" * 48, pseudonym_key="k" * 48
    )
    async with running(create_app(settings, SERVICES, title="t")) as client:
        body = await ask(
            client, auth(settings, uuid.uuid4(), "admin"), "{ __schema { types { name } } }"
        )
        assert "introspection" in messages(body).lower()
    dev = make_settings(database)
    async with running(create_app(dev, SERVICES, title="t")) as client:
        body = await ask(
            client, auth(dev, uuid.uuid4(), "admin"), "{ __schema { queryType { name } } }"
        )
        assert body["data"]["__schema"]["queryType"]["name"] == "Query"
