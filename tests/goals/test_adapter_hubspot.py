"""The HubSpot adapter: signature v3, decoding, and mapping in occurredAt order (no database)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from goals.ingest.adapters import hubspot
from goals.ingest.adapters.base import (
    Credentials,
    Delivery,
    Malformed,
    Mapped,
    ObjectState,
    Refused,
)

SECRET = "app-secret-new"
OLD_SECRET = "app-secret-old"
URL = "https://quotient.example.com/v1/webhooks/hubspot/src-1"
NOW = 1_772_620_900.0  # unix seconds, shortly after the example's items

# The two-event example of CRM_WEBHOOKS.md: the stage change comes 60 s before the amount.
EXAMPLE = [
    {
        "eventId": 1001,
        "subscriptionId": 77,
        "portalId": 62515,
        "appId": 4321,
        "occurredAt": 1772620800000,
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": 9001,
        "propertyName": "dealstage",
        "propertyValue": "closedwon",
        "changeSource": "CRM_UI",
    },
    {
        "eventId": 1002,
        "subscriptionId": 78,
        "portalId": 62515,
        "appId": 4321,
        "occurredAt": 1772620860000,
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": 9001,
        "propertyName": "amount",
        "propertyValue": "50000",
        "changeSource": "CRM_UI",
    },
]


def v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = (method + uri).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def delivery(
    body: bytes = b"[]",
    *,
    secret: str = SECRET,
    url: str = URL,
    signed_uri: str | None = None,
    timestamp_ms: int | None = None,
    now: float = NOW,
    drop: tuple[str, ...] = (),
    signed_body: bytes | None = None,
) -> Delivery:
    ts = str(timestamp_ms if timestamp_ms is not None else int(now * 1000))
    headers = {
        "x-hubspot-request-timestamp": ts,
        "x-hubspot-signature-v3": v3(
            secret,
            "POST",
            signed_uri if signed_uri is not None else url,
            signed_body if signed_body is not None else body,
            ts,
        ),
        "content-type": "application/json",
    }
    for name in drop:
        headers.pop(name)
    return Delivery(method="POST", url=url, headers=headers, body=body, now=now)


def creds(*secrets: str, **settings: Any) -> Credentials:
    return Credentials(secrets=secrets or (SECRET,), settings=settings)


def owned(deal: str = "9001", owner: str = "owner-7") -> ObjectState:
    state = ObjectState()
    state.set("deal", deal, "hubspot_owner_id", owner)
    return state


def item(**fields: Any) -> dict[str, Any]:
    base = {
        "eventId": 2001,
        "subscriptionId": 90,
        "portalId": 62515,
        "appId": 4321,
        "occurredAt": 1772620800000,
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": 9001,
        "changeSource": "CRM_UI",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


# --- authenticate -----------------------------------------------------------------------------


def test_a_correctly_signed_delivery_is_authenticated() -> None:
    hubspot.authenticate(delivery(json.dumps(EXAMPLE).encode()), creds())


def test_the_signature_matches_an_independent_computation() -> None:
    body = b'[{"eventId":1}]'
    assert hubspot.signature_v3(SECRET, "POST", URL, body, "1772620900000") == v3(
        SECRET, "POST", URL, body, "1772620900000"
    )


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: delivery(b'[{"amount": 1}]', signed_body=b'[{"amount": 2}]'), "does not match"),
        (lambda: delivery(b"[]", secret="someone-else"), "does not match"),
        (lambda: delivery(timestamp_ms=int((NOW - 301) * 1000)), "300 s"),
        (lambda: delivery(timestamp_ms=int((NOW + 301) * 1000)), "300 s"),
        (lambda: delivery(drop=("x-hubspot-signature-v3",)), "missing"),
        (lambda: delivery(drop=("x-hubspot-request-timestamp",)), "missing"),
    ],
    ids=["tampered-body", "wrong-secret", "301s-old", "301s-ahead", "no-signature", "no-timestamp"],
)
def test_refused(make: Any, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        hubspot.authenticate(make(), creds())


def test_a_timestamp_that_is_not_a_number_is_refused() -> None:
    d = delivery()
    headers = dict(d.headers, **{"x-hubspot-request-timestamp": "yesterday"})
    with pytest.raises(Refused, match="milliseconds"):
        hubspot.authenticate(
            Delivery(method="POST", url=URL, headers=headers, body=d.body, now=NOW), creds()
        )


def test_timestamps_within_300_s_either_way_are_accepted() -> None:
    hubspot.authenticate(delivery(timestamp_ms=int((NOW - 300) * 1000)), creds())
    hubspot.authenticate(delivery(timestamp_ms=int((NOW + 300) * 1000)), creds())


def test_no_secret_registered_is_refused() -> None:
    with pytest.raises(Refused, match="no HubSpot app secret"):
        hubspot.authenticate(delivery(), Credentials(secrets=()))


def test_a_retired_secret_still_verifies_during_its_grace_period() -> None:
    hubspot.authenticate(delivery(secret=OLD_SECRET), creds(SECRET, OLD_SECRET))
    with pytest.raises(Refused):
        hubspot.authenticate(delivery(secret=OLD_SECRET), creds(SECRET))


def test_listed_escapes_are_decoded_in_the_signed_uri() -> None:
    url = "https://q.example.com/v1/webhooks/hubspot/src-1?x=a%3Ab%2Fc%40d%2ae&y=%20%2B%252F"
    signed = "https://q.example.com/v1/webhooks/hubspot/src-1?x=a:b/c@d*e&y=%20%2B%252F"
    assert hubspot.signing_uri(url) == signed
    hubspot.authenticate(delivery(url=url, signed_uri=signed), creds())
    # Signing the URL as received (not decoded) is not what HubSpot does.
    with pytest.raises(Refused):
        hubspot.authenticate(delivery(url=url, signed_uri=url), creds())


def test_every_documented_escape_is_decoded_and_nothing_else() -> None:
    encoded = "%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B"
    assert hubspot.signing_uri(encoded) == ":/?@!$'()*,;"
    assert hubspot.signing_uri("%20%2B%26%3D%25") == "%20%2B%26%3D%25"


# --- decode / objects -------------------------------------------------------------------------


def test_decode_accepts_an_array_of_objects() -> None:
    assert hubspot.decode(delivery(json.dumps(EXAMPLE).encode())) == EXAMPLE


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"eventId": 1}', b"[1, 2]", b"\xff\xfe", json.dumps([{}] * 501).encode()],
    ids=["not-json", "object", "not-objects", "not-utf8", "too-many"],
)
def test_decode_refuses_what_is_not_an_array_of_objects(body: bytes) -> None:
    with pytest.raises(Malformed):
        hubspot.decode(delivery(body))


def test_objects_names_type_and_id() -> None:
    payload = [*EXAMPLE, item(subscriptionType="contact.creation", objectId=55), {"eventId": 3}]
    assert hubspot.objects(payload) == {("deal", "9001"), ("contact", "55")}


# --- to_events --------------------------------------------------------------------------------


def won_event(results: list[Mapped]) -> dict[str, Any]:
    events = [m.event for m in results if m.event is not None]
    assert len(events) == 1
    assert all(m.error is None for m in results)
    return events[0]


def test_the_example_yields_deal_won_without_amount_and_remembers_the_amount() -> None:
    state = owned()
    results = hubspot.to_events(EXAMPLE, creds(), state)

    assert [m.index for m in results] == [0, 1]
    assert results[1].event is None and results[1].error is None
    event = won_event(results)
    assert event == {
        "id": "hubspot:62515:77:1001:9001:1772620800000",
        "type": "deal_won",
        "occurred_at": "2026-03-04T10:40:00+00:00",
        "actor_id": "owner-7",
        "deal_id": "9001",
        "attributes": {
            "stage": "closedwon",
            "hubspot": {
                "portalId": 62515,
                "subscriptionType": "deal.propertyChange",
                "changeSource": "CRM_UI",
            },
        },
    }
    assert "amount" not in event  # it comes 60 s later; money comes from finance anyway
    remembered = state.get("deal", "9001")
    assert remembered["amount"] == "50000"
    assert remembered["dealstage"] == "closedwon"
    assert ("deal", "9001") in state.changed


def test_the_example_reversed_gives_the_same_result() -> None:
    forward = hubspot.to_events(EXAMPLE, creds(), owned())
    backward_state = owned()
    backward = hubspot.to_events(list(reversed(EXAMPLE)), creds(), backward_state)

    assert won_event(backward) == won_event(forward)
    assert backward[1].index == 1 and backward[1].event is not None  # results in item order
    assert backward_state.get("deal", "9001")["amount"] == "50000"


def test_a_remembered_amount_and_currency_go_into_deal_won() -> None:
    state = owned()
    state.set("deal", "9001", "amount", "1234.50")
    state.set("deal", "9001", "deal_currency_code", "usd")
    state.set("deal", "9001", "associatedcompanyid", 555)
    event = won_event(hubspot.to_events(EXAMPLE[:1], creds(), state))
    assert event["amount"] == {"value": "1234.50", "currency": "USD"}
    assert event["customer"] == {"id": "555"}


def test_currency_defaults_to_the_source_setting_then_cny() -> None:
    state = owned()
    state.set("deal", "9001", "amount", 50000)
    assert won_event(hubspot.to_events(EXAMPLE[:1], creds(currency="EUR"), state))["amount"] == {
        "value": "50000",
        "currency": "EUR",
    }
    assert won_event(hubspot.to_events(EXAMPLE[:1], creds(), state))["amount"]["currency"] == "CNY"


def test_the_owner_may_arrive_in_the_same_delivery_before_the_stage_change() -> None:
    owner_change = item(
        eventId=999, occurredAt=1772620700000, propertyName="hubspot_owner_id", propertyValue="42"
    )
    state = ObjectState()
    results = hubspot.to_events([EXAMPLE[0], owner_change], creds(), state)
    assert won_event(results)["actor_id"] == "42"


def test_a_bad_item_is_an_error_and_the_others_are_mapped() -> None:
    bad = item(eventId=1003, objectId=None, propertyName="dealstage", propertyValue="closedlost")
    results = hubspot.to_events([EXAMPLE[0], bad, EXAMPLE[1]], creds(), owned())

    assert results[0].event is not None and results[0].event["type"] == "deal_won"
    assert results[1].event is None and results[1].error is not None
    assert "objectId" in results[1].error
    assert results[1].raw == bad
    assert results[2].error is None


@pytest.mark.parametrize("field", ["eventId", "occurredAt", "subscriptionType"])
def test_a_missing_required_field_is_named_in_the_error(field: str) -> None:
    bad = item(propertyName="dealstage", propertyValue="closedwon", **{field: None})
    [result] = hubspot.to_events([bad], creds(), owned())
    assert result.event is None and result.error is not None and field in result.error


def test_an_unknown_subscription_type_is_an_error() -> None:
    [result] = hubspot.to_events([item(subscriptionType="ticket.creation")], creds(), owned())
    assert result.error is not None and "ticket.creation" in result.error


def test_the_dedupe_key_is_equal_across_two_deliveries_of_the_same_item() -> None:
    retried = dict(EXAMPLE[0], attemptNumber=3)
    first = won_event(hubspot.to_events(EXAMPLE, creds(), owned()))
    second = won_event(hubspot.to_events([retried], creds(), owned()))
    assert first["id"] == second["id"] == "hubspot:62515:77:1001:9001:1772620800000"


def test_the_stage_map_can_be_overridden_per_source() -> None:
    custom = {"closedwon": "quote_sent", "12345678": "deal_won"}
    stage = item(propertyName="dealstage", propertyValue="12345678")
    results = hubspot.to_events([EXAMPLE[0], stage], creds(stage_map=custom), owned())
    assert [m.event["type"] if m.event else None for m in results] == ["quote_sent", "deal_won"]


def test_a_stage_outside_the_map_is_only_remembered() -> None:
    state = owned()
    stage = item(propertyName="dealstage", propertyValue="12345678")
    [result] = hubspot.to_events([stage], creds(), state)
    assert result.event is None and result.error is None
    assert state.get("deal", "9001")["dealstage"] == "12345678"


def test_an_unknown_owner_is_an_error() -> None:
    [result] = hubspot.to_events(EXAMPLE[:1], creds(), ObjectState())
    assert result.event is None
    assert result.error == ("no owner known for deal 9001: subscribe to hubspot_owner_id changes")


def test_other_property_changes_are_only_remembered_when_useful() -> None:
    state = owned()
    results = hubspot.to_events(
        [
            item(eventId=1, propertyName="pipeline", propertyValue="default"),
            item(eventId=2, propertyName="description", propertyValue="long text"),
        ],
        creds(),
        state,
    )
    assert all(m.event is None and m.error is None for m in results)
    remembered = state.get("deal", "9001")
    assert remembered["pipeline"] == "default"
    assert "description" not in remembered


def test_a_late_retry_of_an_older_change_does_not_overwrite_a_newer_value() -> None:
    state = owned()
    newer = item(eventId=2, occurredAt=1772620900000, propertyName="amount", propertyValue="700")
    older = item(eventId=1, occurredAt=1772620800000, propertyName="amount", propertyValue="500")
    hubspot.to_events([newer], creds(), state)
    hubspot.to_events([older], creds(), state)
    assert state.get("deal", "9001")["amount"] == "700"


def test_deal_creation_is_a_lead_and_deletion_records_nothing() -> None:
    created = item(eventId=5, subscriptionType="deal.creation", changeFlag="CREATED")
    deleted = item(eventId=6, occurredAt=1772620900000, subscriptionType="deal.deletion")
    results = hubspot.to_events([created, deleted], creds(), owned())
    assert results[0].event is not None
    assert results[0].event["type"] == "lead_created"
    assert results[0].event["deal_id"] == "9001"
    assert results[0].event["actor_id"] == "owner-7"
    assert results[1].event is None and results[1].error is None


def test_contact_creation_needs_the_contacts_owner() -> None:
    created = item(eventId=7, subscriptionType="contact.creation", objectId=55)
    [unknown] = hubspot.to_events([created], creds(), ObjectState())
    assert unknown.error is not None and "contact 55" in unknown.error

    owner = item(
        eventId=6,
        subscriptionType="contact.propertyChange",
        objectId=55,
        propertyName="hubspot_owner_id",
        propertyValue="31",
    )
    state = ObjectState()
    results = hubspot.to_events([created, owner], creds(), state)
    assert results[1].event is None and results[1].error is None
    event = results[0].event
    assert event is not None
    assert event["type"] == "lead_created"
    assert event["actor_id"] == "31"
    assert event["customer"] == {"id": "contact:55"}
    assert "deal_id" not in event
    assert state.get("contact", "55")["hubspot_owner_id"] == "31"


def test_occurred_at_keeps_milliseconds() -> None:
    stage = item(occurredAt=1772620800123, propertyName="dealstage", propertyValue="closedlost")
    [result] = hubspot.to_events([stage], creds(), owned())
    assert result.event is not None
    assert result.event["occurred_at"] == "2026-03-04T10:40:00.123+00:00"
    assert result.event["type"] == "deal_lost"
