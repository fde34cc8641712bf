"""HubSpot webhooks (app subscriptions) → canonical activity events (pure: no DB, no HTTP).

A delivery is a JSON array of up to 100 items, signed with signature v3 (see ``authenticate``).
Each item names one object and, for ``*.propertyChange``, only the one property that changed, so
the adapter keeps the properties it needs per object in ``ObjectState`` (owner, amount, currency,
stage, pipeline, company) and maps with what is known *at that item's ``occurredAt``*.

Ordering. HubSpot does not guarantee order, within a delivery or across deliveries (retries come
hours later). Items are processed by ``occurredAt`` (then property changes before other items at
the same instant, so a deal's initial owner is known to its ``deal.creation``; then ``eventId``).
A remembered property also keeps the ``occurredAt`` of its change (under ``_occurred_at``), so a
late retry of an older change never overwrites a newer value.

Consequence for money. HubSpot often sends ``dealstage=closedwon`` *before* the ``amount``
change (the CRM_WEBHOOKS.md example: the amount comes 60 s later). Processed in ``occurredAt``
order, the amount is not known at the stage event, so ``deal_won`` is emitted without ``amount``.
That is expected: money is credited from the finance system (``payment_received``), and an event
once accepted is never rewritten here (its ``id`` is the idempotency key). The amount is still
remembered, for later events of the deal.

Outcomes per item (``Mapped``, returned in delivery order): an event; nothing (a change only
remembered, a ``deal.deletion``); or an error (quarantined as unmappable, e.g. no owner known yet,
a missing field, an unsupported subscription type).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from goals.ingest.adapters.base import (
    Credentials,
    Delivery,
    Malformed,
    Mapped,
    ObjectState,
    Refused,
)

SIGNATURE_HEADER = "x-hubspot-signature-v3"
TIMESTAMP_HEADER = "x-hubspot-request-timestamp"
TOLERANCE_MS = 300_000
MAX_ITEMS = 500  # HubSpot sends at most 100; be lenient, as for the generic webhook

DEFAULT_STAGE_MAP: dict[str, str] = {
    "appointmentscheduled": "first_contact",
    "qualifiedtobuy": "first_contact",
    "presentationscheduled": "quote_sent",
    "decisionmakerboughtin": "quote_sent",
    "contractsent": "quote_sent",
    "closedwon": "deal_won",
    "closedlost": "deal_lost",
}
DEFAULT_CURRENCY = "CNY"

# Properties worth remembering per object type; other property changes are ignored.
REMEMBERED: dict[str, frozenset[str]] = {
    "deal": frozenset(
        {
            "hubspot_owner_id",
            "amount",
            "deal_currency_code",
            "dealstage",
            "pipeline",
            "associatedcompanyid",
        }
    ),
    "contact": frozenset({"hubspot_owner_id", "associatedcompanyid", "lifecyclestage"}),
}
CHANGED_AT = "_occurred_at"  # state key: {property name: occurredAt (ms) of the remembered value}

# HubSpot decodes exactly these before signing the URI (hex digits in either case are accepted).
_DECODED_IN_URI = {
    "3A": ":",
    "2F": "/",
    "3F": "?",
    "40": "@",
    "21": "!",
    "24": "$",
    "27": "'",
    "28": "(",
    "29": ")",
    "2A": "*",
    "2C": ",",
    "3B": ";",
}
_ENCODED = re.compile("%(" + "|".join(_DECODED_IN_URI) + ")", re.IGNORECASE)


# --- authentication ---------------------------------------------------------------------------


def signing_uri(url: str) -> str:
    """The URI as HubSpot signs it: the listed percent-escapes decoded, once, nothing else."""
    return _ENCODED.sub(lambda m: _DECODED_IN_URI[m.group(1).upper()], url)


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """base64(HMAC-SHA256(secret, method + uri + body + timestamp))."""
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def authenticate(delivery: Delivery, credentials: Credentials) -> None:
    """Raise Refused unless the v3 signature matches one secret within ±300 s of delivery.now."""
    offered = (delivery.headers.get(SIGNATURE_HEADER) or "").strip()
    if not offered:
        raise Refused(f"missing {SIGNATURE_HEADER} header")
    timestamp = (delivery.headers.get(TIMESTAMP_HEADER) or "").strip()
    if not timestamp:
        raise Refused(f"missing {TIMESTAMP_HEADER} header")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise Refused(f"{TIMESTAMP_HEADER} is not epoch milliseconds")
    if abs(delivery.now * 1000 - int(timestamp)) > TOLERANCE_MS:
        raise Refused(f"{TIMESTAMP_HEADER} is more than 300 s away from the server clock")
    secrets = [s for s in credentials.secrets if s]
    if not secrets:
        raise Refused("no HubSpot app secret registered for this source")
    uri = signing_uri(delivery.url)
    method = delivery.method.upper()
    offered_bytes = offered.encode()
    # Every secret is tried (current, then retired ones in their grace period); one match is enough.
    matched = False
    for secret in secrets:
        expected = signature_v3(secret, method, uri, delivery.body, timestamp).encode()
        matched |= hmac.compare_digest(expected, offered_bytes)
    if not matched:
        raise Refused("X-HubSpot-Signature-v3 does not match")


# --- decoding ---------------------------------------------------------------------------------


def decode(delivery: Delivery) -> list[dict[str, Any]]:
    """The body as a JSON array of objects (at most 500), else Malformed."""
    try:
        payload = json.loads(delivery.body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Malformed(f"body is not JSON: {exc}") from exc
    if not isinstance(payload, list):
        raise Malformed("body is not a JSON array")
    if len(payload) > MAX_ITEMS:
        raise Malformed(f"too many items: {len(payload)} > {MAX_ITEMS}")
    for i, item in enumerate(payload):
        if not isinstance(item, dict):
            raise Malformed(f"item {i} is not a JSON object")
    return payload


def objects(payload: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The (object type, object id) pairs whose remembered state the items need."""
    found: set[tuple[str, str]] = set()
    for item in payload:
        object_type = _object_type(item)
        object_id = _id(item.get("objectId"))
        if object_type and object_id:
            found.add((object_type, object_id))
    return found


# --- mapping ----------------------------------------------------------------------------------


def to_events(
    payload: list[dict[str, Any]], credentials: Credentials, state: ObjectState
) -> list[Mapped]:
    """Map each item, in occurredAt order, against the remembered state; results in item order."""
    results = [_map_item(i, item, credentials, state) for i, item in _in_time_order(payload)]
    return sorted(results, key=lambda m: m.index)


def _in_time_order(payload: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    def key(entry: tuple[int, dict[str, Any]]) -> tuple[Any, ...]:
        index, item = entry
        occurred = item.get("occurredAt")
        at = occurred if _is_int(occurred) else -1  # unusable items: errors, order irrelevant
        subscription = item.get("subscriptionType")
        later = (
            0 if isinstance(subscription, str) and subscription.endswith(".propertyChange") else 1
        )
        event_id = item.get("eventId")
        tie = (0, event_id, "") if _is_int(event_id) else (1, 0, str(event_id))
        return (at, later, tie, index)

    return sorted(enumerate(payload), key=key)


def _map_item(
    index: int, item: dict[str, Any], credentials: Credentials, state: ObjectState
) -> Mapped:
    mapped = Mapped(index=index, raw=item)
    subscription = item.get("subscriptionType")
    if not isinstance(subscription, str) or not subscription:
        mapped.error = "missing or invalid subscriptionType"
        return mapped
    for field in ("objectId", "eventId", "portalId", "subscriptionId"):
        if _id(item.get(field)) is None:
            mapped.error = f"missing or invalid {field}"
            return mapped
    occurred_ms = item.get("occurredAt")
    occurred_at = _iso_utc(occurred_ms)
    if occurred_at is None:
        mapped.error = "missing or invalid occurredAt (epoch milliseconds)"
        return mapped
    assert isinstance(occurred_ms, int)  # checked by _iso_utc
    object_id = str(_id(item["objectId"]))

    if subscription == "deal.propertyChange":
        name = item.get("propertyName")
        if not isinstance(name, str) or not name:
            mapped.error = "missing or invalid propertyName"
            return mapped
        value = item.get("propertyValue")
        _remember(state, "deal", object_id, name, value, occurred_ms)
        if name != "dealstage" or not isinstance(value, str) or not value:
            return mapped
        stage_map = credentials.settings.get("stage_map", DEFAULT_STAGE_MAP)
        if not isinstance(stage_map, Mapping):
            mapped.error = "settings.stage_map is not an object"
            return mapped
        event_type = stage_map.get(value)
        if event_type is None:
            return mapped  # a stage with no funnel meaning: only remembered
        if not isinstance(event_type, str) or not event_type:
            mapped.error = f"settings.stage_map[{value!r}] is not an event type"
            return mapped
        _deal_event(mapped, item, event_type, object_id, occurred_at, credentials, state, value)
    elif subscription == "deal.creation":
        _deal_event(mapped, item, "lead_created", object_id, occurred_at, credentials, state, None)
    elif subscription == "contact.propertyChange":
        name = item.get("propertyName")
        if not isinstance(name, str) or not name:
            mapped.error = "missing or invalid propertyName"
            return mapped
        _remember(state, "contact", object_id, name, item.get("propertyValue"), occurred_ms)
    elif subscription == "contact.creation":
        owner = _text(
            _as_of(state.get("contact", object_id), item.get("occurredAt")).get("hubspot_owner_id")
        )
        if owner is None:
            mapped.error = _no_owner("contact", object_id)
            return mapped
        mapped.event = {
            "id": _dedupe_key(item),
            "type": "lead_created",
            "occurred_at": occurred_at,
            "actor_id": owner,
            "customer": {"id": f"contact:{object_id}"},
            "attributes": {"hubspot": _origin(item)},
        }
    elif subscription in ("deal.deletion", "contact.deletion"):
        # The object's own events stand; a CRM correction comes as record_deleted (generic webhook).
        pass
    else:
        mapped.error = f"unsupported subscriptionType {subscription!r}"
    return mapped


def _as_of(known: dict[str, Any], occurred: Any) -> dict[str, Any]:
    """The remembered properties as they stood at ``occurred`` (epoch ms)."""
    changed = known.get(CHANGED_AT)
    if not isinstance(changed, dict) or not isinstance(occurred, int):
        return known
    return {
        name: value
        for name, value in known.items()
        if not isinstance(changed.get(name), int) or changed[name] <= occurred
    }


def _deal_event(
    mapped: Mapped,
    item: dict[str, Any],
    event_type: str,
    deal_id: str,
    occurred_at: str,
    credentials: Credentials,
    state: ObjectState,
    stage: str | None,
) -> None:
    # As of the item's own time: a redelivery maps to the same event whatever came after it
    # (the same id with other content would be a conflict).
    known = _as_of(state.get("deal", deal_id), item.get("occurredAt"))
    owner = _text(known.get("hubspot_owner_id"))
    if owner is None:
        mapped.error = _no_owner("deal", deal_id)
        return
    attributes: dict[str, Any] = {}
    if stage is not None:
        attributes["stage"] = stage
    attributes["hubspot"] = _origin(item)
    event: dict[str, Any] = {
        "id": _dedupe_key(item),
        "type": event_type,
        "occurred_at": occurred_at,
        "actor_id": owner,
        "deal_id": deal_id,
        "attributes": attributes,
    }
    company = _text(known.get("associatedcompanyid"))
    if company is not None:
        event["customer"] = {"id": company}
    if event_type == "deal_won":
        value = _decimal_string(known.get("amount"))
        if value is not None:
            currency = _text(known.get("deal_currency_code")) or _text(
                credentials.settings.get("currency")
            )
            event["amount"] = {"value": value, "currency": (currency or DEFAULT_CURRENCY).upper()}
    mapped.event = event


def _remember(
    state: ObjectState, object_type: str, object_id: str, name: str, value: Any, at: int
) -> None:
    """Remember a property change unless a newer change of it is already remembered."""
    if name not in REMEMBERED.get(object_type, frozenset()):
        return
    known = state.get(object_type, object_id)
    changed_at = known.get(CHANGED_AT)
    changed_at = dict(changed_at) if isinstance(changed_at, Mapping) else {}
    previous = changed_at.get(name)
    if isinstance(previous, int) and previous > at:
        return  # a late retry of an older change
    state.set(object_type, object_id, name, value)
    changed_at[name] = at
    state.set(object_type, object_id, CHANGED_AT, changed_at)


def _dedupe_key(item: dict[str, Any]) -> str:
    """HubSpot's eventId alone is not unique: the documented key is the five fields together."""
    parts = (item["portalId"], item["subscriptionId"], item["eventId"], item["objectId"])
    return "hubspot:" + ":".join(str(_id(p)) for p in parts) + f":{item['occurredAt']}"


def _origin(item: dict[str, Any]) -> dict[str, Any]:
    return {
        k: item[k]
        for k in ("portalId", "subscriptionType", "changeSource")
        if item.get(k) is not None
    }


def _no_owner(object_type: str, object_id: str) -> str:
    return f"no owner known for {object_type} {object_id}: subscribe to hubspot_owner_id changes"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _id(value: Any) -> str | None:
    """An identifier as text: a non-negative integer or a non-empty string without ':'."""
    if _is_int(value):
        return str(value) if value >= 0 else None
    if isinstance(value, str) and value.strip() and ":" not in value:
        return value.strip()
    return None


def _text(value: Any) -> str | None:
    if _is_int(value):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _iso_utc(epoch_ms: Any) -> str | None:
    """Epoch milliseconds as RFC 3339 in UTC (with offset), or None when unusable."""
    if not _is_int(epoch_ms) or epoch_ms < 0:
        return None
    try:
        at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=epoch_ms)
    except OverflowError:
        return None
    return at.isoformat(timespec="milliseconds" if epoch_ms % 1000 else "seconds")


def _decimal_string(value: Any) -> str | None:
    """A remembered amount as a plain decimal string ("50000", "1234.50"), None when unusable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return format(amount, "f")


def _object_type(item: dict[str, Any]) -> str | None:
    subscription = item.get("subscriptionType")
    if isinstance(subscription, str) and "." in subscription:
        return subscription.split(".", 1)[0] or None
    return None
