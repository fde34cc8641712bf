"""Who may call what: one decision per (role, REST route or GraphQL field) of the three services.
A new route or field without a row here fails the test."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from allinone.app import SERVICES
from shared.auth.tokens import ROLES
from shared.db.bootstrap import DatabaseUrls
from shared.service import create_app, graphql_schema
from tests.helpers import auth, make_settings, running

READERS = {"admin", "hr", "finance"}  # managers: their teams (test_org_scope); others: themselves
PUBLIC = "public"
SIGNED = "signed"  # authenticated by the source's HMAC signature, not a bearer token

REST: dict[tuple[str, str], Any] = {
    ("POST", "/v1/tenants"): {"platform_admin"},
    ("POST", "/v1/sources"): {"admin"},
    ("GET", "/v1/schemas/activity"): PUBLIC,
    ("GET", "/v1/quarantine"): {"admin", "integration"},
    ("POST", "/v1/webhooks/{source_id}"): SIGNED,
    ("GET", "/v1/totals"): READERS,
    ("PUT", "/v1/targets"): {"admin", "manager", "hr"},
    ("PUT", "/v1/score-items/{metric}"): {"admin", "hr"},
    ("GET", "/v1/scores"): READERS,
    ("PUT", "/v1/plans/flat-rate"): {"admin", "finance"},
    ("GET", "/v1/commissions"): READERS,
    ("GET", "/v1/audit/goals"): {"admin", "hr", "finance"},
    ("GET", "/v1/audit/scoring"): {"admin", "hr", "finance"},
    ("GET", "/v1/audit/incentives"): {"admin", "hr", "finance"},
    ("PUT", "/v1/org/teams/{team_id}"): {"admin", "hr"},
    ("PUT", "/v1/org/memberships"): {"admin", "hr"},
    ("POST", "/v1/people/{person_id}/erase"): {"admin", "hr"},
    ("GET", "/v1/people/{person_id}/export/goals"): {"admin", "hr"},
    ("GET", "/v1/people/{person_id}/export/scoring"): {"admin", "hr"},
    ("GET", "/v1/people/{person_id}/export/incentives"): {"admin", "hr"},
}
GRAPHQL: dict[str, set[str]] = {
    "kpiTotals": READERS,
    "scores": READERS,
    "commissions": READERS,
}
# How to call each route: path, query, body. Figures are asked for someone else ("p-2").
CALLS: dict[tuple[str, str], tuple[str, dict[str, str], Any]] = {
    ("POST", "/v1/tenants"): ("/v1/tenants", {}, {"name": "x"}),
    ("POST", "/v1/sources"): ("/v1/sources", {}, {"name": "x"}),
    ("GET", "/v1/schemas/activity"): ("/v1/schemas/activity", {}, None),
    ("GET", "/v1/quarantine"): ("/v1/quarantine", {}, None),
    ("POST", "/v1/webhooks/{source_id}"): (f"/v1/webhooks/{uuid.uuid4()}", {}, {"id": "x"}),
    ("GET", "/v1/totals"): ("/v1/totals", {"person_id": "p-2", "month": "2026-03"}, None),
    ("PUT", "/v1/targets"): (
        "/v1/targets",
        {},
        {"person_id": "p-2", "metric": "m", "month": "2026-03", "value": "1"},
    ),
    ("PUT", "/v1/score-items/{metric}"): ("/v1/score-items/m", {}, {"weight": "10"}),
    ("GET", "/v1/scores"): ("/v1/scores", {"person_id": "p-2", "month": "2026-03"}, None),
    ("PUT", "/v1/plans/flat-rate"): ("/v1/plans/flat-rate", {}, {"rate": "0.03"}),
    ("GET", "/v1/commissions"): ("/v1/commissions", {"person_id": "p-2", "month": "2026-03"}, None),
    ("GET", "/v1/audit/goals"): ("/v1/audit/goals", {}, None),
    ("GET", "/v1/audit/scoring"): ("/v1/audit/scoring", {}, None),
    ("GET", "/v1/audit/incentives"): ("/v1/audit/incentives", {}, None),
    ("PUT", "/v1/org/teams/{team_id}"): ("/v1/org/teams/t-1", {}, {"name": "East"}),
    ("PUT", "/v1/org/memberships"): (
        "/v1/org/memberships",
        {},
        {"person_id": "p-2", "team_id": "t-1", "valid_from": "2026-01-01"},
    ),
    ("POST", "/v1/people/{person_id}/erase"): ("/v1/people/p-2/erase", {}, None),
    ("GET", "/v1/people/{person_id}/export/goals"): ("/v1/people/p-2/export/goals", {}, None),
    ("GET", "/v1/people/{person_id}/export/scoring"): ("/v1/people/p-2/export/scoring", {}, None),
    ("GET", "/v1/people/{person_id}/export/incentives"): (
        "/v1/people/p-2/export/incentives",
        {},
        None,
    ),
}
SKIP = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/graphql",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/docs/oauth2-redirect",
}


def rest_routes() -> set[tuple[str, str]]:
    app = create_app(make_settings_stub(), SERVICES, title="routes")
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path not in SKIP
        for method in operations
    }


def make_settings_stub():  # type: ignore[no-untyped-def]
    from shared.settings import BaseServiceSettings

    return BaseServiceSettings(env="test", database_url="postgresql://x@127.0.0.1/x")


def test_every_rest_route_and_graphql_field_has_a_decision() -> None:
    assert rest_routes() == set(REST) == set(CALLS)
    schema = graphql_schema(SERVICES, make_settings_stub())
    assert set(schema._schema.query_type.fields) == set(GRAPHQL)


@pytest.fixture
async def app_client(database: DatabaseUrls):
    settings = make_settings(database)
    async with running(create_app(settings, SERVICES, title="t")) as client:
        r = await client.post(
            "/v1/tenants",
            json={"name": "t"},
            headers=auth(settings, uuid.uuid4(), "platform_admin"),
        )
        yield client, settings, uuid.UUID(r.json()["tenant_id"])


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_rest_decisions(app_client, role: str) -> None:
    client, settings, tenant = app_client
    headers = auth(settings, tenant, role, subject="p-1")
    wrong = []
    for route, decision in REST.items():
        path, query, body = CALLS[route]
        r = await client.request(route[0], path, params=query, json=body, headers=headers)
        assert r.status_code < 500, (route, r.status_code, r.text)
        if decision == PUBLIC:
            ok = r.status_code not in (401, 403)
        elif decision == SIGNED:
            ok = r.status_code in (401, 404)  # a bearer token is no signature
        elif role in decision:
            ok = r.status_code not in (401, 403)
        else:
            ok = r.status_code == 403
        if not ok:
            wrong.append((route, r.status_code))
    assert wrong == []


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_graphql_decisions(app_client, role: str) -> None:
    client, settings, tenant = app_client
    headers = auth(settings, tenant, role, subject="p-1")
    for field, allowed in GRAPHQL.items():
        for person, expect_allowed in (("p-2", role in allowed), ("p-1", True)):
            query = f'{{ {field}(personId: "{person}", month: "2026-03") {{ __typename }} }}'
            body = (await client.post("/graphql", json={"query": query}, headers=headers)).json()
            if expect_allowed:
                assert not body.get("errors"), (field, person, body)
            else:
                assert body["errors"][0]["extensions"]["status"] == 403, (field, person, body)


async def test_no_token_is_401_problem(app_client) -> None:
    client, _settings, _tenant = app_client
    r = await client.get("/v1/totals", params={"person_id": "p-1", "month": "2026-03"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
