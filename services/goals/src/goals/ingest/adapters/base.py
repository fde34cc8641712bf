"""What every CRM adapter works with (pure: no database, no HTTP framework).

An adapter turns one authenticated vendor delivery into canonical activity events (as dicts, to be
validated and accepted by the common ingest path, which also resolves actors through aliases and
handles idempotency on the event ``id``):

- ``authenticate(delivery, credentials)`` raises ``Refused`` when the delivery is not from the
  registered source (nothing of it is stored);
- ``decode(delivery)`` parses the body, raising ``Malformed`` (the body is then quarantined);
- ``objects(payload)`` names the CRM objects whose remembered state the adapter needs;
- ``to_events(payload, credentials, state)`` maps each vendor item to a canonical event, to an
  error (quarantined with the vendor item), or to nothing (a change only remembered in state);
- ``respond(outcomes)`` (optional) is the HTTP answer the vendor expects (Salesforce's SOAP Ack).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Refused(Exception):
    """The delivery is not authenticated as the registered source: 401, nothing stored."""


class Malformed(Exception):
    """An authenticated body that cannot be parsed at all: quarantined whole."""


@dataclass(frozen=True)
class Delivery:
    method: str
    url: str  # the full public URI the vendor called (public base URL + path + query)
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    now: float  # unix seconds
    path_token: str | None = None  # a secret token in the URL path (Salesforce)


@dataclass(frozen=True)
class Credentials:
    """A source's secrets: the current one first, then retired ones still in their grace period,
    and vendor settings (e.g. organization_id, basic_user, stage map)."""

    secrets: tuple[str, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Mapped:
    index: int  # position of the vendor item in the delivery
    raw: Any  # the vendor item, kept with a quarantined event
    event: dict[str, Any] | None = None  # a canonical activity event to validate and accept
    error: str | None = None  # why it could not be mapped (quarantined as "unmappable")


class ObjectState:
    """Remembered properties of CRM objects (HubSpot sends one changed property at a time)."""

    def __init__(self, known: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> None:
        self._props: dict[tuple[str, str], dict[str, Any]] = {
            k: dict(v) for k, v in (known or {}).items()
        }
        self.changed: set[tuple[str, str]] = set()

    def get(self, object_type: str, object_id: str) -> dict[str, Any]:
        return dict(self._props.get((object_type, object_id), {}))

    def set(self, object_type: str, object_id: str, name: str, value: Any) -> None:
        props = self._props.setdefault((object_type, object_id), {})
        if props.get(name) != value:
            props[name] = value
            self.changed.add((object_type, object_id))

    def items(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {k: dict(v) for k, v in self._props.items()}
