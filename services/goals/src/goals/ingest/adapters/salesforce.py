"""Salesforce Outbound Messages (SOAP 1.1 ``notifications``) → canonical activity events.

Salesforce signs nothing: a delivery is authentic when the secret token in the URL path matches
one of the source's secrets (any listed one, so a token can be rotated) and the envelope's
``OrganizationId`` is the registered org. An IP allow-list of Salesforce's published ranges or
mutual TLS can be added in front of the endpoint; neither replaces these checks.

Each message carries the record's latest state (not a diff), may arrive twice and out of order;
the canonical ``id`` is ``salesforce:{notification Id}``, the key Salesforce itself retries under.
Nothing here touches a database or an HTTP framework.
"""

from __future__ import annotations

import hmac
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, date, datetime
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

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

MAX_NOTIFICATIONS = 100
CONTENT_TYPE = "text/xml; charset=utf-8"

# Opportunity stage (the org's StageName picklist) → canonical type; a tenant overrides or extends
# it with ``settings["stage_map"]`` (a stage mapped to "" or None is ignored).
DEFAULT_STAGE_MAP: Mapping[str, str] = {
    "Prospecting": "lead_created",
    "Qualification": "first_contact",
    "Needs Analysis": "first_contact",
    "Proposal/Price Quote": "quote_sent",
    "Negotiation/Review": "quote_sent",
    "Closed Won": "deal_won",
    "Closed Lost": "deal_lost",
}

# A DTD is the door to entity expansion (billion laughs) and external entities (XXE): a SOAP
# message never has one, so any body declaring one is never handed to the parser.
_FORBIDDEN_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ORG_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")

_ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}">'
    "<soapenv:Body>"
    f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body>"
    "</soapenv:Envelope>"
).encode()

_FAULT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}">'
    "<soapenv:Body>"
    "<soapenv:Fault>"
    "<faultcode>soapenv:Server</faultcode>"
    "<faultstring>The notifications could not be stored; please retry.</faultstring>"
    "</soapenv:Fault>"
    "</soapenv:Body>"
    "</soapenv:Envelope>"
).encode()


class _Unsupported(Exception):
    """A notification that cannot become an event (quarantined with this message)."""


def authenticate(delivery: Delivery, credentials: Credentials) -> None:
    """Refuse unless the path token is one of the secrets and the envelope is from the registered org."""
    token = delivery.path_token
    if not token:
        raise Refused("missing path token")
    presented = token.encode()
    matched = False
    for secret in credentials.secrets:
        # Every secret is compared (no early exit), each in constant time.
        if secret and hmac.compare_digest(presented, secret.encode()):
            matched = True
    if not matched:
        raise Refused("wrong path token")

    registered = credentials.settings.get("organization_id")
    if not isinstance(registered, str) or not _ORG_ID.match(registered):
        raise Refused("no valid organization_id is registered for this source")
    try:
        sent = _notifications_element(delivery.body).findtext(f"{{{OUTBOUND_NS}}}OrganizationId")
    except Malformed as exc:
        raise Refused(f"cannot read OrganizationId: {exc}") from None
    sent = (sent or "").strip()
    if not _ORG_ID.match(sent):
        raise Refused("missing or invalid OrganizationId")
    # 15-character ids are case-sensitive; the 18-character form only appends a checksum of the
    # case, so the first 15 characters identify the org in both forms.
    if not hmac.compare_digest(sent[:15].encode(), registered[:15].encode()):
        raise Refused("OrganizationId is not the registered organization")


def decode(delivery: Delivery) -> dict[str, Any]:
    """The envelope as ``{organization_id, action_id, notifications: [{id, type, fields}]}``."""
    notifications = _notifications_element(delivery.body)
    organization_id = _text(notifications.find(f"{{{OUTBOUND_NS}}}OrganizationId"))
    if not organization_id:
        raise Malformed("notifications without OrganizationId")
    items = notifications.findall(f"{{{OUTBOUND_NS}}}Notification")
    if len(items) > MAX_NOTIFICATIONS:
        raise Malformed(f"{len(items)} notifications: at most {MAX_NOTIFICATIONS} are allowed")
    decoded = []
    for item in items:
        sobject = item.find(f"{{{OUTBOUND_NS}}}sObject")
        if sobject is None:
            raise Malformed("a Notification without sObject")
        xsi_type = sobject.get(f"{{{XSI_NS}}}type") or ""
        decoded.append(
            {
                "id": _text(item.find(f"{{{OUTBOUND_NS}}}Id")),
                "type": xsi_type.rpartition(":")[2],
                "fields": {_local(child.tag): _value(child) for child in sobject},
            }
        )
    return {
        "organization_id": organization_id,
        "action_id": _text(notifications.find(f"{{{OUTBOUND_NS}}}ActionId")),
        "notifications": decoded,
    }


def objects(payload: Any) -> set[tuple[str, str]]:
    """None: every notification carries the record's full state."""
    return set()


def to_events(payload: Any, credentials: Credentials, state: ObjectState) -> list[Mapped]:
    """One result per notification: an event, an error (quarantined), or nothing to record."""
    results = []
    for index, notification in enumerate(payload["notifications"]):
        try:
            event = _event(notification, payload.get("action_id"), credentials.settings)
        except _Unsupported as exc:
            results.append(Mapped(index=index, raw=notification, error=str(exc)))
        else:
            results.append(Mapped(index=index, raw=notification, event=event))
    return results


def respond(ok: bool) -> tuple[int, str, bytes]:
    """The SOAP answer: an Ack once stored, else a Fault (503) so that Salesforce retries."""
    if ok:
        return 200, CONTENT_TYPE, _ACK
    return 503, CONTENT_TYPE, _FAULT


# --- parsing -------------------------------------------------------------------------------


def _notifications_element(body: bytes) -> ET.Element:
    if _FORBIDDEN_DECLARATION.search(body):
        raise Malformed("DOCTYPE and ENTITY declarations are not accepted")
    try:
        # Salesforce sends UTF-8. Parsing the decoded text (expat then ignores any declared
        # encoding) means a UTF-16 or EBCDIC body cannot hide a DOCTYPE from the byte check above.
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise Malformed(f"not XML: {exc}") from None
    if root.tag != f"{{{SOAP_ENV_NS}}}Envelope":
        raise Malformed("not a SOAP 1.1 envelope")
    soap_body = root.find(f"{{{SOAP_ENV_NS}}}Body")
    if soap_body is None:
        raise Malformed("a SOAP envelope without Body")
    notifications = soap_body.find(f"{{{OUTBOUND_NS}}}notifications")
    if notifications is None:
        raise Malformed("not an Outbound Message (no notifications element)")
    return notifications


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _text(element: ET.Element | None) -> str | None:
    if element is None or element.get(f"{{{XSI_NS}}}nil") == "true":
        return None
    return (element.text or "").strip()


def _value(element: ET.Element) -> Any:
    # Fields are flat text; a related record (an sObject inside the sObject) becomes a dict.
    if len(element):
        return {_local(child.tag): _value(child) for child in element}
    return _text(element)


# --- mapping -------------------------------------------------------------------------------


def _event(
    notification: Mapping[str, Any], action_id: Any, settings: Mapping[str, Any]
) -> dict[str, Any] | None:
    notification_id = notification.get("id")
    if not notification_id:
        raise _Unsupported("notification without Id")
    object_type = notification.get("type") or ""
    fields: Mapping[str, Any] = notification.get("fields") or {}
    if object_type == "Opportunity":
        return _opportunity(notification_id, fields, action_id, settings)
    if object_type in ("Task", "Event") and fields.get("Subject"):
        return _activity(notification_id, object_type, fields, action_id)
    raise _Unsupported(f"unsupported sObject type {object_type or '(none)'}")


def _opportunity(
    notification_id: str, fields: Mapping[str, Any], action_id: Any, settings: Mapping[str, Any]
) -> dict[str, Any] | None:
    stage = fields.get("StageName")
    overrides = settings.get("stage_map") or {}
    if not isinstance(overrides, Mapping):
        raise _Unsupported("the source's stage_map setting is not a mapping")
    stage_map = {**DEFAULT_STAGE_MAP, **overrides}
    event_type: str | None
    if _true(fields.get("IsWon")):
        event_type = "deal_won"
    else:
        event_type = stage_map.get(stage) if isinstance(stage, str) else None
    if not event_type:
        return None  # a stage the tenant does not count: nothing to record

    event: dict[str, Any] = {
        "id": f"salesforce:{notification_id}",
        "type": event_type,
        "occurred_at": _occurred_at(fields, "LastModifiedDate", "CloseDate"),
        "actor_id": _required(fields, "OwnerId"),
        "deal_id": _required(fields, "Id"),
    }
    if fields.get("AccountId"):
        event["customer"] = {"id": fields["AccountId"]}
    if event_type == "deal_won" and fields.get("Amount"):
        currency = fields.get("CurrencyIsoCode") or settings.get("currency", "CNY")
        event["amount"] = {"value": _decimal(fields["Amount"]), "currency": str(currency).upper()}
    event["attributes"] = {
        "stage": stage,
        "salesforce": {"object": "Opportunity", "action_id": action_id},
    }
    return event


def _activity(
    notification_id: str, object_type: str, fields: Mapping[str, Any], action_id: Any
) -> dict[str, Any] | None:
    if object_type == "Task":
        if fields.get("IsClosed") is not None and not _true(fields["IsClosed"]):
            return None  # an open task is a plan, not something done
        subtype = fields.get("TaskSubtype")
        event_type = "call" if subtype in (None, "", "Call") else "task_completed"
        times = ("CompletedDateTime", "ActivityDate", "LastModifiedDate")
    else:
        event_type = "visit"
        times = ("ActivityDateTime", "ActivityDate", "LastModifiedDate")
    event: dict[str, Any] = {
        "id": f"salesforce:{notification_id}",
        "type": event_type,
        "occurred_at": _occurred_at(fields, *times),
        "actor_id": _required(fields, "OwnerId"),
    }
    what_id = fields.get("WhatId")
    if isinstance(what_id, str) and what_id.startswith("006"):  # 006 = Opportunity key prefix
        event["deal_id"] = what_id
    if fields.get("AccountId"):
        event["customer"] = {"id": fields["AccountId"]}
    attributes: dict[str, Any] = {"salesforce": {"object": object_type, "action_id": action_id}}
    if fields.get("DurationInMinutes"):
        attributes["duration_minutes"] = _integer(fields, "DurationInMinutes")
    elif fields.get("CallDurationInSeconds"):
        attributes["duration_minutes"] = _integer(fields, "CallDurationInSeconds") // 60
    event["attributes"] = attributes
    return event


def _required(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value:
        raise _Unsupported(f"missing {name}")
    return value


def _integer(fields: Mapping[str, Any], name: str) -> int:
    try:
        return int(fields[name])
    except (TypeError, ValueError):
        raise _Unsupported(f"invalid {name} {fields[name]!r}") from None


def _true(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in ("true", "1")


def _decimal(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Unsupported(f"invalid Amount {text!r}") from None
    if not value.is_finite():
        raise _Unsupported(f"invalid Amount {text!r}")
    return format(value, "f")


def _occurred_at(fields: Mapping[str, Any], *names: str) -> str:
    """The first present field as RFC 3339 with offset; a date alone is midnight UTC."""
    for name in names:
        raw = fields.get(name)
        if not isinstance(raw, str) or not raw:
            continue
        try:
            if len(raw) == 10:
                day = date.fromisoformat(raw)
                moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            else:
                moment = datetime.fromisoformat(raw)
        except ValueError:
            raise _Unsupported(f"invalid {name} {raw!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.isoformat()
    raise _Unsupported(f"no {' or '.join(names)} to date the event")
