"""Pipedrive webhooks adapter: Basic authentication, dedupe key, mapping."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import pytest

from goals.ingest.adapters import pipedrive
from goals.ingest.adapters.base import (
    Credentials,
    Delivery,
    Malformed,
    Mapped,
    ObjectState,
    Refused,
)
from shared.events.activity import ActivityEvent

USER = "quotient-hook"
PASSWORD = "pw-current-8c1d"
OLD_PASSWORD = "pw-retired-2b7e"

SPEC_EXAMPLE: dict[str, Any] = {
    "meta": {
        "action": "change",
        "entity": "deal",
        "entity_id": "4711",
        "company_id": "9012",
        "user_id": "345",
        "timestamp": "2026-03-05T10:00:00Z",
        "attempt": 1,
        "change_source": "app",
        "webhook_id": "88",
        "is_bulk_edit": False,
    },
    "data": {
        "id": 4711,
        "title": "ACME renewal",
        "value": 50000,
        "currency": "CNY",
        "status": "won",
        "owner_id": 345,
        "org_id": 12,
        "won_time": "2026-03-05T09:59:12Z",
        "custom_fields": {},
    },
    "previous": {"status": "open"},
}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def delivery(payload: Any = SPEC_EXAMPLE, authorization: str | None = None) -> Delivery:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    headers["authorization"] = basic(USER, PASSWORD) if authorization is None else authorization
    return Delivery(
        method="POST",
        url="https://quotient.example/v1/webhooks/src-2/pipedrive",
        headers=headers,
        body=body,
        now=1772704800.0,
    )


CREDENTIALS = Credentials(secrets=(PASSWORD, OLD_PASSWORD), settings={"basic_user": USER})


def mapped(payload: Any, creds: Credentials = CREDENTIALS) -> Mapped:
    d = delivery(payload)
    pipedrive.authenticate(d, creds)
    decoded = pipedrive.decode(d)
    assert pipedrive.objects(decoded) == set()
    [result] = pipedrive.to_events(decoded, creds, ObjectState())
    assert result.index == 0
    assert result.raw == decoded
    return result


def variant(**parts: dict[str, Any]) -> dict[str, Any]:
    """The spec example with ``meta``/``data``/``previous`` replaced or updated."""
    payload = copy.deepcopy(SPEC_EXAMPLE)
    for name, values in parts.items():
        payload[name] = values if name == "previous" else {**payload[name], **values}
    return payload


# --- the spec example ----------------------------------------------------------------------


def test_spec_example_maps_to_deal_won() -> None:
    result = mapped(SPEC_EXAMPLE)
    assert result.error is None
    assert result.event == {
        "id": "pipedrive:deal:4711:change:2026-03-05T10:00:00Z",
        "type": "deal_won",
        "occurred_at": "2026-03-05T09:59:12+00:00",
        "actor_id": "345",
        "customer": {"id": "12"},
        "deal_id": "4711",
        "amount": {"value": "50000", "currency": "CNY"},
        "attributes": {},
    }
    ActivityEvent.model_validate(result.event)


def test_fractional_value_keeps_its_digits() -> None:
    result = mapped(variant(data={"value": 1234.1, "currency": "usd"}))
    assert result.event["amount"] == {"value": "1234.1", "currency": "USD"}


def test_won_time_missing_falls_back_to_meta_timestamp() -> None:
    payload = variant()
    del payload["data"]["won_time"]
    assert mapped(payload).event["occurred_at"] == "2026-03-05T10:00:00+00:00"


def test_zoneless_time_is_utc() -> None:
    result = mapped(variant(data={"won_time": "2026-03-05 09:59:12"}))
    assert result.event["occurred_at"] == "2026-03-05T09:59:12+00:00"


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        basic(USER, "wrong"),
        basic("someone-else", PASSWORD),
        basic(USER, ""),
        basic(USER, PASSWORD + "x"),
        "Bearer " + PASSWORD,
        "Basic",
        "Basic not base64!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
    ],
)
def test_wrong_missing_or_malformed_credentials_are_refused(authorization: str) -> None:
    with pytest.raises(Refused):
        pipedrive.authenticate(delivery(authorization=authorization), CREDENTIALS)


def test_no_authorization_header_is_refused() -> None:
    d = delivery()
    d = Delivery(d.method, d.url, {"content-type": "application/json"}, d.body, d.now)
    with pytest.raises(Refused):
        pipedrive.authenticate(d, CREDENTIALS)


def test_rotated_password_verifies() -> None:
    pipedrive.authenticate(delivery(authorization=basic(USER, OLD_PASSWORD)), CREDENTIALS)
    pipedrive.authenticate(
        delivery(authorization="basic " + basic(USER, PASSWORD)[6:]), CREDENTIALS
    )


def test_password_with_colon_verifies() -> None:
    creds = Credentials(secrets=("a:b:c",), settings={"basic_user": USER})
    pipedrive.authenticate(delivery(authorization=basic(USER, "a:b:c")), creds)


def test_unconfigured_user_is_refused() -> None:
    with pytest.raises(Refused):
        pipedrive.authenticate(delivery(), Credentials(secrets=(PASSWORD,), settings={}))


def test_empty_secret_never_matches() -> None:
    creds = Credentials(secrets=("",), settings={"basic_user": USER})
    with pytest.raises(Refused):
        pipedrive.authenticate(delivery(authorization=basic(USER, "")), creds)


# --- decoding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"data": {}}',
        b'{"meta": [], "data": {}}',
        b'{"meta": {}}',
        b'{"meta": {}, "data": []}',
        b'{"meta": {}, "data": {}, "previous": 3}',
        b'{"meta": {}, "data": {"value": NaN}}',
    ],
)
def test_not_a_webhook_is_malformed(body: bytes) -> None:
    with pytest.raises(Malformed):
        pipedrive.decode(delivery(body))


def test_v1_names_are_accepted() -> None:
    payload = {
        "meta": {"action": "updated", "object": "deal", "id": 4711, "user_id": 345, "retry": 0},
        "current": {**SPEC_EXAMPLE["data"]},
        "previous": {**SPEC_EXAMPLE["data"], "status": "open"},
    }
    payload["meta"]["timestamp"] = 1772704800
    result = mapped(payload)
    assert result.event["type"] == "deal_won"
    assert result.event["id"] == "pipedrive:deal:4711:change:1772704800"
    assert result.event["amount"] == {"value": "50000", "currency": "CNY"}


# --- dedupe key ----------------------------------------------------------------------------


def test_redelivery_has_the_same_id() -> None:
    first = mapped(variant(meta={"attempt": 1})).event
    second = mapped(variant(meta={"attempt": 2})).event
    assert first == second


def test_body_hash_fallback_when_meta_is_incomplete() -> None:
    payload = variant()
    del payload["meta"]["timestamp"]
    result = mapped(payload)
    without_attempt = {
        **payload,
        "meta": {k: v for k, v in payload["meta"].items() if k != "attempt"},
    }
    digest = hashlib.sha256(
        json.dumps(without_attempt, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert result.event["id"] == f"pipedrive:sha256:{digest}"
    # a redelivery hashes the same; another change does not
    redelivered = copy.deepcopy(payload)
    redelivered["meta"]["attempt"] = 3
    assert mapped(redelivered).event["id"] == result.event["id"]
    other = copy.deepcopy(payload)
    other["data"]["value"] = 50001
    assert mapped(other).event["id"] != result.event["id"]
    assert result.event["occurred_at"] == "2026-03-05T09:59:12+00:00"  # from won_time


# --- deals ---------------------------------------------------------------------------------


def test_unrelated_change_yields_nothing() -> None:
    result = mapped(variant(data={"title": "ACME renewal 2026"}, previous={"title": "ACME"}))
    assert result.event is None and result.error is None


def test_change_of_an_already_won_deal_is_not_won_again() -> None:
    result = mapped(variant(data={"value": 60000}, previous={"value": 50000}))
    assert result.event is None and result.error is None


def test_create_is_lead_created() -> None:
    payload = variant(
        meta={"action": "create"},
        data={"status": "open", "add_time": "2026-03-01 08:00:00", "stage_id": 1},
        previous=None,
    )
    result = mapped(payload)
    assert result.event == {
        "id": "pipedrive:deal:4711:create:2026-03-05T10:00:00Z",
        "type": "lead_created",
        "occurred_at": "2026-03-01T08:00:00+00:00",
        "actor_id": "345",
        "customer": {"id": "12"},
        "deal_id": "4711",
        "attributes": {"stage_id": "1"},
    }
    ActivityEvent.model_validate(result.event)


def test_newly_lost_is_deal_lost() -> None:
    result = mapped(variant(data={"status": "lost", "lost_time": "2026-03-05T09:00:00Z"}))
    assert result.event["type"] == "deal_lost"
    assert result.event["occurred_at"] == "2026-03-05T09:00:00+00:00"
    assert "amount" not in result.event


def test_stage_change() -> None:
    result = mapped(variant(data={"status": "open", "stage_id": 4}, previous={"stage_id": 3}))
    assert result.event["type"] == "opportunity_stage_changed"
    assert result.event["attributes"] == {"from_stage": "3", "to_stage": "4"}
    assert result.event["occurred_at"] == "2026-03-05T10:00:00+00:00"
    ActivityEvent.model_validate(result.event)


def test_owner_falls_back_to_meta_user() -> None:
    payload = variant()
    del payload["data"]["owner_id"]
    payload["meta"]["user_id"] = "999"
    assert mapped(payload).event["actor_id"] == "999"


def test_delete_records_nothing() -> None:
    result = mapped(variant(meta={"action": "delete"}) | {"data": None})
    assert result.event is None and result.error is None


def test_unknown_entity_is_an_error() -> None:
    result = mapped(variant(meta={"entity": "person"}))
    assert result.event is None
    assert result.error == "unsupported Pipedrive entity person"


# --- activities ----------------------------------------------------------------------------

ACTIVITY: dict[str, Any] = {
    "meta": {
        "action": "change",
        "entity": "activity",
        "entity_id": "501",
        "user_id": "345",
        "timestamp": "2026-03-05T11:00:00Z",
        "attempt": 1,
    },
    "data": {
        "id": 501,
        "type": "meeting",
        "subject": "Visit ACME",
        "done": True,
        "duration": "01:30",
        "owner_id": 345,
        "deal_id": 4711,
        "org_id": 12,
        "marked_as_done_time": "2026-03-05 10:45:00",
    },
    "previous": {"done": False},
}


def test_activity_done_is_a_visit_with_duration() -> None:
    result = mapped(ACTIVITY)
    assert result.event == {
        "id": "pipedrive:activity:501:change:2026-03-05T11:00:00Z",
        "type": "visit",
        "occurred_at": "2026-03-05T10:45:00+00:00",
        "actor_id": "345",
        "customer": {"id": "12"},
        "deal_id": "4711",
        "attributes": {"activity_type": "meeting", "duration_minutes": 90},
    }
    ActivityEvent.model_validate(result.event)


@pytest.mark.parametrize(("kind", "expected"), [("call", "call"), ("email", "task_completed")])
def test_activity_types(kind: str, expected: str) -> None:
    payload = copy.deepcopy(ACTIVITY)
    payload["data"]["type"] = kind
    assert mapped(payload).event["type"] == expected


def test_activity_created_done_counts() -> None:
    payload = copy.deepcopy(ACTIVITY)
    payload["meta"]["action"] = "create"
    payload["previous"] = None
    assert mapped(payload).event["type"] == "visit"


@pytest.mark.parametrize(
    ("done", "previous"),
    [(False, {"done": False}), (True, {"subject": "old subject"}), (True, {"done": True})],
)
def test_activity_not_newly_done_yields_nothing(done: bool, previous: dict[str, Any]) -> None:
    payload = copy.deepcopy(ACTIVITY)
    payload["data"]["done"] = done
    payload["previous"] = previous
    result = mapped(payload)
    assert result.event is None and result.error is None


def test_invalid_duration_is_an_error() -> None:
    payload = copy.deepcopy(ACTIVITY)
    payload["data"]["duration"] = "ninety"
    result = mapped(payload)
    assert result.event is None and "duration" in result.error
