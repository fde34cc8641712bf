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
ANY = set(ROLES)
SETTERS = {"admin", "hr", "manager"}
NOWHERE = str(uuid.uuid4())

REST: dict[tuple[str, str], Any] = {
    ("POST", "/v1/tenants"): {"platform_admin"},
    ("POST", "/v1/sources"): {"admin"},
    ("GET", "/v1/sources"): {"admin", "integration"},
    ("GET", "/v1/schemas/activity"): PUBLIC,
    ("GET", "/v1/quarantine"): {"admin", "integration"},
    ("POST", "/v1/webhooks/{source_id}"): SIGNED,
    ("POST", "/v1/webhooks/{source_id}/{token}"): SIGNED,
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
    ("GET", "/v1/funnel"): READERS,
    ("PUT", "/v1/fx-rates"): {"admin", "finance"},
    ("GET", "/v1/fx-rates"): {"admin", "finance"},
    ("POST", "/v1/team-pools"): {"admin", "finance"},
    ("PUT", "/v1/team-pools/{pool_id}/allocation"): {"admin", "manager"},
    ("POST", "/v1/team-pools/{pool_id}/approve"): {"admin", "finance"},
    ("POST", "/v1/pay-appeals"): ANY,
    ("GET", "/v1/pay-appeals"): {"admin", "hr", "finance", "manager", "committee"},
    ("POST", "/v1/pay-appeals/{appeal_id}/decide"): {"committee"},
    ("GET", "/v1/payouts/summary"): {"admin", "finance"},
    ("GET", "/v1/recognition"): ANY,
    ("GET", "/v1/lti/eligibility"): {"admin", "finance", "hr"},
    ("POST", "/v1/lti/profit-share"): {"admin", "finance"},
    ("PUT", "/v1/plans/{key}"): {"admin", "finance"},
    ("POST", "/v1/plans/{key}/assign"): {"admin", "finance"},
    ("POST", "/v1/plans/{plan_id}/accept"): ANY,
    ("GET", "/v1/statements"): READERS,
    ("POST", "/v1/statements/prepare"): {"admin", "finance"},
    ("POST", "/v1/statements/{statement_id}/approve"): {"admin", "finance"},
    ("POST", "/v1/statements/{statement_id}/paid"): {"admin", "finance"},
    ("GET", "/v1/statements/export"): {"admin", "finance"},
    ("POST", "/v1/what-if"): READERS,
    ("GET", "/v1/scorecard-templates"): ANY,
    ("PUT", "/v1/scorecard-templates/{key}"): {"admin", "hr"},
    ("POST", "/v1/scorecards"): {"admin", "hr"},  # managers: for their own teams only
    ("GET", "/v1/scorecards"): READERS,
    ("PUT", "/v1/scorecards/{scorecard_id}/items/{item_key}"): {"admin", "hr"},
    ("POST", "/v1/scorecards/{scorecard_id}/reviews"): SETTERS,
    ("POST", "/v1/scorecards/{scorecard_id}/ratings"): ANY,
    ("GET", "/v1/reviews/todo"): ANY,
    ("GET", "/v1/grading"): {"admin", "hr", "manager", "committee"},
    ("PUT", "/v1/grading"): {"admin", "hr"},
    ("GET", "/v1/calibrations"): {"admin", "hr", "committee"},
    ("POST", "/v1/calibrations/{calibration_id}/approve"): {"admin", "hr"},
    ("POST", "/v1/appeals"): ANY,
    ("GET", "/v1/appeals"): {"admin", "hr", "manager", "committee"},
    ("POST", "/v1/appeals/{appeal_id}/decide"): {"committee"},
    ("POST", "/v1/scorecards/{scorecard_id}/report"): SETTERS,
    ("PUT", "/v1/scorecards/{scorecard_id}/interview"): ANY,
    ("POST", "/v1/scorecards/{scorecard_id}/interview/sign"): ANY,
    ("GET", "/v1/results"): {"admin", "hr"},
    ("GET", "/v1/scorecards/ranking"): {"admin", "hr", "finance", "committee"},
    ("POST", "/v1/scorecards/{scorecard_id}/reviews/remind"): SETTERS,
    ("GET", "/v1/goals/{goal_id}/pace"): ANY,
    ("GET", "/v1/alerts/settings"): ANY,
    ("PUT", "/v1/alerts/settings"): {"admin", "hr"},
    ("GET", "/v1/alerts"): READERS,
    ("GET", "/v1/alerts/{alert_id}"): ANY,
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): ANY,
    ("POST", "/v1/alerts/{alert_id}/resolve"): SETTERS,
    ("POST", "/v1/alerts/{alert_id}/evidence"): ANY,
    ("POST", "/v1/alerts/{alert_id}/evidence/{evidence_id}/decide"): SETTERS,
    ("POST", "/v1/alerts/channels"): {"admin"},
    ("GET", "/v1/alerts/deliveries"): {"admin"},
    ("PUT", "/v1/sources/{source_id}/mapping"): {"admin", "integration"},
    ("POST", "/v1/sources/{source_id}/mapping/activate"): {"admin", "integration"},
    ("POST", "/v1/sources/{source_id}/mapping/test"): {"admin", "integration"},
    ("POST", "/v1/sources/{source_id}/backfill"): {"admin", "integration"},
    ("GET", "/v1/backfills/{backfill_id}"): {"admin", "integration"},
    ("POST", "/v1/sources/{source_id}/rotate"): {"admin"},
    ("PUT", "/v1/sources/{source_id}/aliases/{alias}"): {"admin", "hr"},
    ("GET", "/v1/sources/{source_id}/aliases"): {"admin", "hr"},
    ("POST", "/v1/quarantine/{quarantine_id}/replay"): {"admin", "integration"},
    ("GET", "/v1/totals/explain"): READERS,
    ("PUT", "/v1/org/people/{person_id}"): {"admin", "hr"},
    ("GET", "/v1/org/people"): {"admin", "hr", "finance", "manager"},
    # Managers set the goals of their own teams and people only (p-2 is not theirs here).
    ("POST", "/v1/goals"): {"admin", "hr"},
    ("GET", "/v1/goals"): READERS,
    # Open to any caller; a goal they may not see answers 404 (it is not disclosed).
    ("GET", "/v1/goals/{goal_id}"): ANY,
    ("GET", "/v1/goals/{goal_id}/children"): ANY,
    ("GET", "/v1/goals/{goal_id}/history"): ANY,
    ("POST", "/v1/goals/{goal_id}/proposals"): ANY,
    ("POST", "/v1/goals/{goal_id}/split"): SETTERS,
    ("GET", "/v1/proposals"): SETTERS,
    ("POST", "/v1/proposals/{proposal_id}/approve"): SETTERS,
    ("POST", "/v1/proposals/{proposal_id}/reject"): SETTERS,
    ("POST", "/v1/periods/{label}/close"): {"admin", "hr", "finance"},
    ("GET", "/v1/periods/{label}"): ANY,
    ("GET", "/v1/periods/{label}/late"): {"admin", "hr", "finance", "manager"},
    ("POST", "/v1/imports/teams"): {"admin", "hr"},
    ("POST", "/v1/imports/people"): {"admin", "hr"},
    ("POST", "/v1/imports/targets"): {"admin", "hr"},
    ("GET", "/v1/metrics"): ANY,
    ("PUT", "/v1/metrics/{key}"): {"admin", "hr"},
    ("DELETE", "/v1/metrics/{key}"): {"admin", "hr"},
    ("GET", "/v1/templates"): ANY,
    ("POST", "/v1/templates/{key}/copy"): {"admin", "hr"},
    ("PUT", "/v1/templates/{key}"): {"admin", "hr"},
}
GRAPHQL: dict[str, set[str]] = {
    "kpiTotals": READERS,
    "scores": READERS,
    "commissions": READERS,
    "funnel": READERS,
    "goalTree": READERS,
    "leaderboard": ANY,  # recognition: names and attainment are public inside the company
    "scorecard": READERS,
    "teamRanking": READERS,  # managers: their own teams
    "reviewsToDo": ANY,
    "statement": READERS,
    "whatIf": READERS,
    "teamPayouts": {"admin", "finance"},
}
GRAPHQL_SCALARS = {
    "scorecard",
    "teamRanking",
    "reviewsToDo",
    "statement",
    "whatIf",
    "teamPayouts",
}  # JSON: no selection set
# The arguments each field is asked with, for a person ({person}); by default a month.
GRAPHQL_ARGS: dict[str, str] = {
    "funnel": 'personId: "{person}", period: "2026-Q1"',
    "goalTree": 'ownerKind: "person", ownerId: "{person}", period: "2026-03", metric: "visits"',
    "leaderboard": 'metric: "visits", period: "2026-03"',
    "scorecard": 'personId: "{person}", period: "2026-03"',
    "teamRanking": 'period: "2026-03", teamId: "t-1"',
    "reviewsToDo": "",
    "statement": 'personId: "{person}", period: "2026-03"',
    "whatIf": 'personId: "{person}", period: "2026-03", amount: "1"',
    "teamPayouts": 'period: "2026-03"',
}
# How to call each route: path, query, body. Figures are asked for someone else ("p-2").
CALLS: dict[tuple[str, str], tuple[str, dict[str, str], Any]] = {
    ("POST", "/v1/tenants"): ("/v1/tenants", {}, {"name": "x"}),
    ("POST", "/v1/sources"): ("/v1/sources", {}, {"name": "x"}),
    ("GET", "/v1/sources"): ("/v1/sources", {}, None),
    ("GET", "/v1/schemas/activity"): ("/v1/schemas/activity", {}, None),
    ("GET", "/v1/quarantine"): ("/v1/quarantine", {}, None),
    ("POST", "/v1/webhooks/{source_id}"): (f"/v1/webhooks/{uuid.uuid4()}", {}, {"id": "x"}),
    ("POST", "/v1/webhooks/{source_id}/{token}"): (f"/v1/webhooks/{uuid.uuid4()}/t", {}, {}),
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
    ("GET", "/v1/funnel"): ("/v1/funnel", {"person_id": "p-2", "period": "2026-Q1"}, None),
    ("PUT", "/v1/fx-rates"): (
        "/v1/fx-rates",
        {},
        {"currency": "USD", "rate": "7", "valid_from": "2026-01-01"},
    ),
    ("GET", "/v1/fx-rates"): ("/v1/fx-rates", {}, None),
    ("POST", "/v1/team-pools"): ("/v1/team-pools", {}, {"period": "2026-03", "amount": "1"}),
    ("PUT", "/v1/team-pools/{pool_id}/allocation"): (
        f"/v1/team-pools/{NOWHERE}/allocation",
        {},
        {"allocation": {"p-2": "1"}},
    ),
    ("POST", "/v1/team-pools/{pool_id}/approve"): (f"/v1/team-pools/{NOWHERE}/approve", {}, None),
    ("GET", "/v1/pay-appeals"): ("/v1/pay-appeals", {}, None),
    ("POST", "/v1/pay-appeals"): (
        "/v1/pay-appeals",
        {},
        {"period": "2026-03", "component": "c", "reason": "r"},
    ),
    ("POST", "/v1/pay-appeals/{appeal_id}/decide"): (
        f"/v1/pay-appeals/{NOWHERE}/decide",
        {},
        {"accept": False, "reason": "x"},
    ),
    ("GET", "/v1/payouts/summary"): ("/v1/payouts/summary", {"period": "2026-03"}, None),
    ("GET", "/v1/recognition"): ("/v1/recognition", {"month": "2026-03"}, None),
    ("GET", "/v1/lti/eligibility"): ("/v1/lti/eligibility", {"year": "2026"}, None),
    ("POST", "/v1/lti/profit-share"): ("/v1/lti/profit-share", {}, {"year": 2026, "pool": "1"}),
    ("PUT", "/v1/plans/{key}"): (
        "/v1/plans/std",
        {},
        {
            "name": "x",
            "effective_from": "2026-01-01",
            "components": [{"type": "flat", "rate": "0.03"}],
        },
    ),
    ("POST", "/v1/plans/{key}/assign"): (
        "/v1/plans/nope/assign",
        {},
        {"person_ids": ["p-2"], "valid_from": "2026-01-01"},
    ),
    ("POST", "/v1/plans/{plan_id}/accept"): (f"/v1/plans/{NOWHERE}/accept", {}, None),
    ("GET", "/v1/statements"): ("/v1/statements", {"person_id": "p-2", "period": "2026-03"}, None),
    ("POST", "/v1/statements/prepare"): (
        "/v1/statements/prepare",
        {},
        {"person_id": "p-2", "period": "2026-03"},
    ),
    ("POST", "/v1/statements/{statement_id}/approve"): (
        f"/v1/statements/{NOWHERE}/approve",
        {},
        None,
    ),
    ("POST", "/v1/statements/{statement_id}/paid"): (f"/v1/statements/{NOWHERE}/paid", {}, None),
    ("GET", "/v1/statements/export"): ("/v1/statements/export", {"period": "2026-03"}, None),
    ("POST", "/v1/what-if"): (
        "/v1/what-if",
        {},
        {"person_id": "p-2", "period": "2026-03", "events": [{"amount": "1"}]},
    ),
    ("GET", "/v1/scorecard-templates"): ("/v1/scorecard-templates", {}, None),
    ("PUT", "/v1/scorecard-templates/{key}"): (
        "/v1/scorecard-templates/t",
        {},
        {"name": "t", "items": [{"key": "a", "name": "A", "kind": "qualitative", "weight": 100}]},
    ),
    ("POST", "/v1/scorecards"): (
        "/v1/scorecards",
        {},
        {"template": "sales_team", "period": "2026-03", "person_ids": ["p-2"]},
    ),
    ("GET", "/v1/scorecards"): ("/v1/scorecards", {"person_id": "p-2", "period": "2026-03"}, None),
    ("PUT", "/v1/scorecards/{scorecard_id}/items/{item_key}"): (
        f"/v1/scorecards/{NOWHERE}/items/x",
        {},
        {"actual": "1", "target": "1"},
    ),
    ("POST", "/v1/scorecards/{scorecard_id}/reviews"): (
        f"/v1/scorecards/{NOWHERE}/reviews",
        {},
        {"raters": [{"rater_id": "m-1", "group": "manager"}]},
    ),
    ("POST", "/v1/scorecards/{scorecard_id}/ratings"): (
        f"/v1/scorecards/{NOWHERE}/ratings",
        {},
        {"ratings": [{"item_key": "x", "score": 1}]},
    ),
    ("GET", "/v1/reviews/todo"): ("/v1/reviews/todo", {}, None),
    ("GET", "/v1/grading"): ("/v1/grading", {}, None),
    ("PUT", "/v1/grading"): (
        "/v1/grading",
        {},
        {"bands": [{"grade": "P", "lower": "50"}, {"grade": "F", "lower": "0"}]},
    ),
    ("GET", "/v1/calibrations"): ("/v1/calibrations", {"period": "2026-03"}, None),
    ("POST", "/v1/calibrations/{calibration_id}/approve"): (
        f"/v1/calibrations/{NOWHERE}/approve",
        {},
        {"grades": {}},
    ),
    ("GET", "/v1/appeals"): ("/v1/appeals", {}, None),
    ("POST", "/v1/appeals"): (
        "/v1/appeals",
        {},
        {"scorecard_id": NOWHERE, "item_key": "x", "reason": "x"},
    ),
    ("POST", "/v1/appeals/{appeal_id}/decide"): (
        f"/v1/appeals/{NOWHERE}/decide",
        {},
        {"accept": False, "reason": "x"},
    ),
    ("POST", "/v1/scorecards/{scorecard_id}/report"): (
        f"/v1/scorecards/{NOWHERE}/report",
        {},
        {"manager_id": "m-1", "delivered_on": "2026-04-01"},
    ),
    ("PUT", "/v1/scorecards/{scorecard_id}/interview"): (
        f"/v1/scorecards/{NOWHERE}/interview",
        {},
        {
            "interview_on": "2026-04-05",
            "self_review": "x",
            "feedback": "x",
            "actions": [{"action": "a", "owner": "o", "due": "2026-05-01", "measure": "m"}],
        },
    ),
    ("POST", "/v1/scorecards/{scorecard_id}/interview/sign"): (
        f"/v1/scorecards/{NOWHERE}/interview/sign",
        {},
        None,
    ),
    ("GET", "/v1/results"): ("/v1/results", {"period": "2026-03"}, None),
    ("GET", "/v1/scorecards/ranking"): ("/v1/scorecards/ranking", {"period": "2026-03"}, None),
    ("POST", "/v1/scorecards/{scorecard_id}/reviews/remind"): (
        f"/v1/scorecards/{NOWHERE}/reviews/remind",
        {},
        None,
    ),
    ("GET", "/v1/goals/{goal_id}/pace"): (f"/v1/goals/{NOWHERE}/pace", {}, None),
    ("GET", "/v1/alerts/settings"): ("/v1/alerts/settings", {}, None),
    ("PUT", "/v1/alerts/settings"): ("/v1/alerts/settings", {}, {"locale": "en"}),
    ("GET", "/v1/alerts"): ("/v1/alerts", {"person_id": "p-2"}, None),
    ("GET", "/v1/alerts/{alert_id}"): (f"/v1/alerts/{NOWHERE}", {}, None),
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): (f"/v1/alerts/{NOWHERE}/acknowledge", {}, {}),
    ("POST", "/v1/alerts/{alert_id}/resolve"): (f"/v1/alerts/{NOWHERE}/resolve", {}, {}),
    ("POST", "/v1/alerts/{alert_id}/evidence"): (
        f"/v1/alerts/{NOWHERE}/evidence",
        {},
        {"text": "x"},
    ),
    ("POST", "/v1/alerts/{alert_id}/evidence/{evidence_id}/decide"): (
        f"/v1/alerts/{NOWHERE}/evidence/{NOWHERE}/decide",
        {},
        {"accept": True, "reason": "x"},
    ),
    ("POST", "/v1/alerts/channels"): (
        "/v1/alerts/channels",
        {},
        {"kind": "slack", "url": "https://127.0.0.1/x"},
    ),
    ("GET", "/v1/alerts/deliveries"): ("/v1/alerts/deliveries", {}, None),
    ("PUT", "/v1/sources/{source_id}/mapping"): (
        f"/v1/sources/{NOWHERE}/mapping",
        {},
        {"mapping": {"fields": {}}},
    ),
    ("POST", "/v1/sources/{source_id}/mapping/activate"): (
        f"/v1/sources/{NOWHERE}/mapping/activate",
        {},
        None,
    ),
    ("POST", "/v1/sources/{source_id}/mapping/test"): (
        f"/v1/sources/{NOWHERE}/mapping/test",
        {},
        {"sample": {}},
    ),
    ("POST", "/v1/sources/{source_id}/backfill"): (f"/v1/sources/{NOWHERE}/backfill", {}, None),
    ("GET", "/v1/backfills/{backfill_id}"): (f"/v1/backfills/{NOWHERE}", {}, None),
    ("POST", "/v1/sources/{source_id}/rotate"): (f"/v1/sources/{NOWHERE}/rotate", {}, {}),
    ("PUT", "/v1/sources/{source_id}/aliases/{alias}"): (
        f"/v1/sources/{NOWHERE}/aliases/u-1",
        {},
        {"person_id": "p-2"},
    ),
    ("GET", "/v1/sources/{source_id}/aliases"): (f"/v1/sources/{NOWHERE}/aliases", {}, None),
    ("POST", "/v1/quarantine/{quarantine_id}/replay"): ("/v1/quarantine/999/replay", {}, {}),
    ("GET", "/v1/totals/explain"): (
        "/v1/totals/explain",
        {"person_id": "p-2", "month": "2026-03", "metric": "visits"},
        None,
    ),
    ("PUT", "/v1/org/people/{person_id}"): (
        "/v1/org/people/p-2",
        {},
        {"name": "B", "role": "sales_rep"},
    ),
    ("GET", "/v1/org/people"): ("/v1/org/people", {}, None),
    ("POST", "/v1/goals"): (
        "/v1/goals",
        {},
        {
            "metric": "visits",
            "owner_kind": "person",
            "owner_id": "p-2",
            "period": "2026-03",
            "target": "1",
        },
    ),
    ("GET", "/v1/goals"): (
        "/v1/goals",
        {"owner_kind": "person", "owner_id": "p-2", "period": "2026-03"},
        None,
    ),
    ("GET", "/v1/goals/{goal_id}"): (f"/v1/goals/{NOWHERE}", {}, None),
    ("GET", "/v1/goals/{goal_id}/children"): (f"/v1/goals/{NOWHERE}/children", {}, None),
    ("GET", "/v1/goals/{goal_id}/history"): (f"/v1/goals/{NOWHERE}/history", {}, None),
    ("POST", "/v1/goals/{goal_id}/proposals"): (
        f"/v1/goals/{NOWHERE}/proposals",
        {},
        {"target": "1", "reason": "x"},
    ),
    ("POST", "/v1/goals/{goal_id}/split"): (f"/v1/goals/{NOWHERE}/split", {}, {"along": "org"}),
    ("GET", "/v1/proposals"): ("/v1/proposals", {}, None),
    ("POST", "/v1/proposals/{proposal_id}/approve"): (
        f"/v1/proposals/{NOWHERE}/approve",
        {},
        {},
    ),
    ("POST", "/v1/proposals/{proposal_id}/reject"): (f"/v1/proposals/{NOWHERE}/reject", {}, {}),
    ("POST", "/v1/periods/{label}/close"): ("/v1/periods/2026-01/close", {}, None),
    ("GET", "/v1/periods/{label}"): ("/v1/periods/2026-01", {}, None),
    ("GET", "/v1/periods/{label}/late"): ("/v1/periods/2026-01/late", {}, None),
    ("POST", "/v1/imports/teams"): ("/v1/imports/teams", {}, None),
    ("POST", "/v1/imports/people"): ("/v1/imports/people", {}, None),
    ("POST", "/v1/imports/targets"): ("/v1/imports/targets", {}, None),
    ("GET", "/v1/metrics"): ("/v1/metrics", {}, None),
    ("PUT", "/v1/metrics/{key}"): (
        "/v1/metrics/mine",
        {},
        {"name": "x", "kind": "count", "event_types": ["visit"]},
    ),
    ("DELETE", "/v1/metrics/{key}"): ("/v1/metrics/mine", {}, None),
    ("GET", "/v1/templates"): ("/v1/templates", {}, None),
    ("POST", "/v1/templates/{key}/copy"): ("/v1/templates/sales_team/copy", {}, None),
    ("PUT", "/v1/templates/{key}"): (
        "/v1/templates/mine",
        {},
        {"name": "x", "items": [{"name": "a", "weight": 100, "kind": "qualitative"}]},
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
        args = GRAPHQL_ARGS.get(field, 'personId: "{person}", month: "2026-03"')
        # A field about a person is also asked about the caller themselves (always allowed).
        cases = [("p-2", role in allowed)] + ([("p-1", True)] if "{person}" in args else [])
        for person, expect_allowed in cases:
            call = f"({args.format(person=person)})" if args else ""
            selection = "" if field in GRAPHQL_SCALARS else " { __typename }"
            query = f"{{ {field}{call}{selection} }}"
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
