"""Pipedrive webhooks (v2, v1 field names accepted) → canonical activity events.

Pipedrive signs nothing: the only proof of origin is the HTTP Basic user and password set when
the webhook was created (the password is one of the source's secrets, so it can be rotated).

Each delivery is one object's change, with its full current state in ``data`` (v1: ``current``)
and the prior values of what changed in ``previous``. Pipedrive has no event id: the canonical
``id`` is ``pipedrive:{entity}:{entity_id}:{action}:{timestamp}``, or a hash of the payload (the
attempt counter left out) when any of these is missing, so that a redelivery dedupes.

Deletions map to nothing: a correction of an event already counted comes as ``record_deleted``
through the generic signed webhook, not from a Pipedrive delete (which is also the first half of
a merge). Nothing here touches a database or an HTTP framework.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
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

# v1 names of the action (``meta.action``), read as their v2 equivalents.
_V1_ACTIONS = {"added": "create", "updated": "change", "deleted": "delete"}
_ATTEMPT_KEYS = ("attempt", "retry")
_DURATION = re.compile(r"^(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$")


class _Unmappable(Exception):
    """A delivery that cannot become an event (quarantined with this message)."""


def authenticate(delivery: Delivery, credentials: Credentials) -> None:
    """Refuse unless the Basic user is the registered one and the password one of the secrets."""
    header = delivery.headers.get("authorization", "")
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise Refused("missing HTTP Basic credentials")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Refused("malformed HTTP Basic credentials") from None
    user, colon, password = decoded.partition(":")
    if not colon:
        raise Refused("malformed HTTP Basic credentials")

    expected_user = credentials.settings.get("basic_user")
    if not isinstance(expected_user, str) or not expected_user:
        raise Refused("no basic_user is registered for this source")
    user_ok = hmac.compare_digest(user.encode(), expected_user.encode())
    password_ok = False
    for secret in credentials.secrets:
        # Every secret is compared (no early exit), each in constant time.
        if secret and hmac.compare_digest(password.encode(), secret.encode()):
            password_ok = True
    if not (user_ok and password_ok):
        raise Refused("wrong HTTP Basic credentials")


def decode(delivery: Delivery) -> dict[str, Any]:
    """The JSON body, checked to be a webhook (``meta`` and ``data``/``current``), as sent."""
    try:
        payload = json.loads(delivery.body, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Malformed(f"not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise Malformed("not a JSON object")
    meta = payload.get("meta")
    if not isinstance(meta, dict):
        raise Malformed("no meta object")
    if "data" not in payload and "current" not in payload:
        raise Malformed("no data (or v1 current)")
    data = _data(payload)
    if data is not None and not isinstance(data, dict):
        raise Malformed("data is not an object")
    previous = payload.get("previous")
    if previous is not None and not isinstance(previous, dict):
        raise Malformed("previous is not an object")
    return payload


def objects(payload: Any) -> set[tuple[str, str]]:
    """None: every delivery carries the object's full state."""
    return set()


def to_events(payload: Any, credentials: Credentials, state: ObjectState) -> list[Mapped]:
    """The delivery's one result (index 0): an event, an error (quarantined), or nothing."""
    try:
        event = _event(payload, credentials.settings)
    except _Unmappable as exc:
        return [Mapped(index=0, raw=payload, error=str(exc))]
    return [Mapped(index=0, raw=payload, event=event)]


def dedupe_key(payload: Mapping[str, Any]) -> str:
    """The canonical event id: the same for every delivery attempt of one change."""
    meta = payload.get("meta") or {}
    parts = [
        _meta(meta, "entity"),
        _meta(meta, "entity_id"),
        _action(meta),
        _meta(meta, "timestamp"),
    ]
    if all(parts):
        return "pipedrive:" + ":".join(str(p) for p in parts)
    stable = {**payload, "meta": {k: v for k, v in meta.items() if k not in _ATTEMPT_KEYS}}
    canonical = json.dumps(stable, sort_keys=True, separators=(",", ":"))
    return "pipedrive:sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


# --- mapping -------------------------------------------------------------------------------


def _event(payload: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any] | None:
    meta: Mapping[str, Any] = payload["meta"]
    action = _action(meta)
    if action == "delete":
        return None
    entity = _meta(meta, "entity")
    data: Mapping[str, Any] = _data(payload) or {}
    previous: Mapping[str, Any] = payload.get("previous") or {}
    if entity == "deal":
        return _deal(payload, action, data, previous, settings)
    if entity == "activity":
        return _activity(payload, action, data, previous)
    raise _Unmappable(f"unsupported Pipedrive entity {entity or '(none)'}")


def _deal(
    payload: Mapping[str, Any],
    action: str | None,
    data: Mapping[str, Any],
    previous: Mapping[str, Any],
    settings: Mapping[str, Any],
) -> dict[str, Any] | None:
    attributes: dict[str, Any] = {}
    amount = None
    if action == "create":
        event_type, at = "lead_created", data.get("add_time")
    elif action != "change":
        raise _Unmappable(f"unsupported action {action or '(none)'} on deal")
    elif _became(data, previous, "status", "won"):
        event_type, at = "deal_won", data.get("won_time")
        amount = _amount(data, settings)
    elif _became(data, previous, "status", "lost"):
        event_type, at = "deal_lost", data.get("lost_time")
    elif "stage_id" in previous and previous["stage_id"] != data.get("stage_id"):
        event_type, at = "opportunity_stage_changed", data.get("stage_change_time")
        attributes = {
            "from_stage": _id(previous["stage_id"]),
            "to_stage": _id(data.get("stage_id")),
        }
    else:
        return None  # a change that is no activity (title, custom fields…)

    event = _base(payload, event_type, at, data)
    deal_id = _id(data.get("id")) or _id(_meta(payload["meta"], "entity_id"))
    if deal_id:
        event["deal_id"] = deal_id
    if amount is not None:
        event["amount"] = amount
    if event_type != "opportunity_stage_changed" and data.get("stage_id") is not None:
        attributes["stage_id"] = _id(data["stage_id"])
    event["attributes"] = attributes
    return event


def _activity(
    payload: Mapping[str, Any],
    action: str | None,
    data: Mapping[str, Any],
    previous: Mapping[str, Any],
) -> dict[str, Any] | None:
    if action not in ("create", "change"):
        raise _Unmappable(f"unsupported action {action or '(none)'} on activity")
    done = _done(data.get("done"))
    if action == "change":
        # v2 ``previous`` holds only what changed: no ``done`` there means it was already done.
        done = done and "done" in previous and not _done(previous["done"])
    if not done:
        return None  # planned, or already counted when it was marked done

    kind = data.get("type") if isinstance(data.get("type"), str) else None
    event_type = {"meeting": "visit", "call": "call"}.get(kind or "", "task_completed")
    event = _base(payload, event_type, data.get("marked_as_done_time"), data)
    if data.get("deal_id") is not None:
        event["deal_id"] = _id(data["deal_id"])
    attributes: dict[str, Any] = {"activity_type": kind}
    if data.get("duration"):
        attributes["duration_minutes"] = _minutes(data["duration"])
    event["attributes"] = attributes
    return event


def _base(
    payload: Mapping[str, Any], event_type: str, at: Any, data: Mapping[str, Any]
) -> dict[str, Any]:
    meta = payload["meta"]
    actor = _id(data.get("owner_id")) or _id(data.get("user_id")) or _id(meta.get("user_id"))
    if not actor:
        raise _Unmappable("no owner_id or user_id to credit")
    event: dict[str, Any] = {
        "id": dedupe_key(payload),
        "type": event_type,
        "occurred_at": _timestamp(at if at else _meta(meta, "timestamp")),
        "actor_id": actor,
    }
    org = _id(data.get("org_id"))
    if org:
        event["customer"] = {"id": org}
    return event


def _became(data: Mapping[str, Any], previous: Mapping[str, Any], name: str, value: str) -> bool:
    # Newly: v2 ``previous`` names only changed fields, so without ``name`` it did not change.
    return data.get(name) == value and name in previous and previous[name] != value


def _done(value: Any) -> bool:
    return value is True or (not isinstance(value, bool) and value in (1, "1", "true"))


def _amount(data: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, str] | None:
    raw = data.get("value")
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _Unmappable(f"invalid deal value {raw!r}")
    try:
        # repr of a float is its shortest round-trip form, i.e. the digits Pipedrive sent.
        value = Decimal(repr(raw) if isinstance(raw, float) else str(raw))
    except InvalidOperation:
        raise _Unmappable(f"invalid deal value {raw!r}") from None
    if not value.is_finite():
        raise _Unmappable(f"invalid deal value {raw!r}")
    currency = data.get("currency") or settings.get("currency", "CNY")
    return {"value": format(value, "f"), "currency": str(currency).upper()}


def _minutes(raw: Any) -> int:
    """``"01:30"`` (hours:minutes, optionally :seconds) → 90."""
    match = _DURATION.match(str(raw).strip())
    if not match:
        raise _Unmappable(f"invalid activity duration {raw!r}")
    return int(match[1]) * 60 + int(match[2])


def _timestamp(raw: Any) -> str:
    """Pipedrive time (``...Z``, or ``YYYY-MM-DD HH:MM:SS`` meaning UTC, or v1 epoch) → RFC 3339."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        seconds = raw / 1000 if raw > 10**11 else raw  # v1 sent epoch seconds or milliseconds
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
    if not isinstance(raw, str) or not raw.strip():
        raise _Unmappable("no time to date the event")
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise _Unmappable(f"invalid time {raw!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def _id(raw: Any) -> str | None:
    """An id as a string; v1 sometimes nests it as ``{"id": …}`` or ``{"value": …}``."""
    if isinstance(raw, dict):
        raw = raw.get("id", raw.get("value"))
    if raw is None or isinstance(raw, bool) or raw == "":
        return None
    return str(raw)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _data(payload: Mapping[str, Any]) -> Any:
    return payload["data"] if "data" in payload else payload.get("current")


def _meta(meta: Mapping[str, Any], name: str) -> Any:
    # v1 called the entity ``object`` and its id ``id``.
    v1 = {"entity": "object", "entity_id": "id"}.get(name)
    value = meta.get(name)
    if value in (None, "") and v1:
        value = meta.get(v1)
    return None if value in (None, "") else value


def _action(meta: Mapping[str, Any]) -> str | None:
    action = meta.get("action")
    if not isinstance(action, str) or not action:
        return None
    return _V1_ACTIONS.get(action, action)
