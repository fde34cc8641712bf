"""Ingest: registered sources, and turning posted payloads into accepted activities.

Accepted activities are stored permanently (the system of record) and announced on
crm.activities.v1 through the outbox, in the same transaction. Idempotent on
(tenant, source, id): the same content again is a duplicate; different content is a conflict.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from goals.ingest.schemas import Outcome
from goals.models import Activity, Erasure, Quarantine, Source, Tenant
from shared.db.uow import UnitOfWork
from shared.events.activity import ActivityEvent
from shared.events.envelope import (
    ActivityRecorded,
    ActivityRecordedPayload,
    derived_event_id,
    new_event,
    person_key,
)
from shared.http.problems import field_errors
from shared.privacy import subject_hash

MAX_BATCH = 500


async def create_source(
    session: AsyncSession, tenant_id: uuid.UUID, *, kind: str, name: str
) -> Source:
    source = Source(
        source_id=uuid.uuid4(),
        tenant_id=tenant_id,
        kind=kind,
        name=name,
        secret="whsec_" + secrets.token_urlsafe(32),
    )
    session.add(source)
    await session.flush()
    return source


@dataclass(frozen=True)
class SourceInfo:
    """What a webhook needs to know of its source (cached briefly: every delivery asks)."""

    source_id: uuid.UUID
    tenant_id: uuid.UUID
    kind: str
    secrets: tuple[str, ...]
    timezone: str


_SOURCE_TTL = 10.0
_sources: dict[uuid.UUID, tuple[float, SourceInfo]] = {}
# Tenants seen without any erasure (until the time given); erasing someone clears the entry.
_no_erasures: dict[uuid.UUID, float] = {}


def forget_no_erasures(tenant_id: uuid.UUID) -> None:
    _no_erasures.pop(tenant_id, None)


async def load_source(uow: UnitOfWork, source_id: uuid.UUID) -> SourceInfo | None:
    """The source a webhook names (cached briefly). Its tenant is not known yet: the lookup reads
    across tenants (the sources table's system policy, select only)."""
    cached = _sources.get(source_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    await uow.system()
    row = (
        await uow.session.execute(
            select(Source.source_id, Source.tenant_id, Source.kind, Source.secret, Tenant.timezone)
            .join(Tenant, Tenant.tenant_id == Source.tenant_id)
            .where(Source.source_id == source_id)
        )
    ).first()
    if row is None:
        _sources.pop(source_id, None)
        return None
    info = SourceInfo(row.source_id, row.tenant_id, row.kind, (row.secret,), row.timezone)
    _sources[source_id] = (time.monotonic() + _SOURCE_TTL, info)
    return info


def activity_event_id(tenant_id: uuid.UUID, source_id: uuid.UUID, external_id: str) -> uuid.UUID:
    """The bus id of an accepted activity (UUIDv5 of tenant, source and the source's own id)."""
    return derived_event_id("activity", tenant_id, source_id, external_id)


def content_hash(event: ActivityEvent) -> str:
    """A hash of what the source sent (before defaults), insensitive to key order and spacing."""
    canonical = json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def quarantine(
    uow: UnitOfWork,
    source: SourceInfo,
    *,
    reason: str,
    body: str,
    detail: dict[str, Any],
) -> Quarantine:
    row = Quarantine(
        tenant_id=source.tenant_id,
        source_id=source.source_id,
        reason=reason,
        body=body,
        detail=detail,
    )
    uow.session.add(row)
    return row


async def credit_erased_to_pseudonyms(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    valid: list[tuple[int, ActivityEvent, str]],
    key: str,
) -> list[tuple[int, ActivityEvent, str]]:
    """An erased person's id is never stored again: their later events carry the pseudonym.
    (The content hash stays that of what the source sent, so duplicates are still recognised.)"""
    checked = _no_erasures.get(tenant_id)
    if checked is not None and checked > time.monotonic():
        return valid
    if not await uow.session.scalar(select(exists().where(Erasure.tenant_id == tenant_id))):
        # Most tenants never erase anyone: skip the per-event check for a few seconds.
        _no_erasures[tenant_id] = time.monotonic() + _SOURCE_TTL
        return valid
    names = {e.actor_id for _, e, _ in valid} | {
        s.actor_id for _, e, _ in valid for s in (e.credit_split or [])
    }
    hashes = {subject_hash(key, tenant_id, n): n for n in names}
    found = await uow.session.execute(
        select(Erasure.subject_hash, Erasure.pseudonym).where(
            Erasure.tenant_id == tenant_id, Erasure.subject_hash.in_(list(hashes))
        )
    )
    swap = {hashes[r.subject_hash]: r.pseudonym for r in found}
    if not swap:
        return valid
    out = []
    for index, event, digest in valid:
        update: dict[str, Any] = {"actor_id": swap.get(event.actor_id, event.actor_id)}
        if event.credit_split:
            update["credit_split"] = [
                share.model_copy(update={"actor_id": swap.get(share.actor_id, share.actor_id)})
                for share in event.credit_split
            ]
        out.append((index, event.model_copy(update=update), digest))
    return out


async def accept_events(
    uow: UnitOfWork,
    source: SourceInfo,
    items: list[Any],
    *,
    received_at: datetime | None = None,
    pseudonym_key: str | None = None,
) -> list[Outcome]:
    """Validate, store and announce each item; each is accepted, a duplicate, or quarantined."""
    now = received_at or datetime.now(UTC)
    outcomes: list[Outcome | None] = [None] * len(items)
    valid: list[tuple[int, ActivityEvent, str]] = []
    pending_quarantine: list[tuple[int, Quarantine]] = []
    for index, item in enumerate(items):
        try:
            event = ActivityEvent.model_validate(item)
        except ValidationError as exc:
            errors = field_errors(exc)
            q = quarantine(
                uow,
                source,
                reason="invalid_event",
                body=json.dumps(item, ensure_ascii=False),
                detail={"errors": errors},
            )
            pending_quarantine.append((index, q))
            outcomes[index] = Outcome(
                index=index,
                id=item.get("id")
                if isinstance(item, dict) and isinstance(item.get("id"), str)
                else None,
                status="invalid",
                http_status=422,
                errors=errors,
            )
            continue
        valid.append((index, event, content_hash(event)))

    if valid and pseudonym_key:
        valid = await credit_erased_to_pseudonyms(uow, source.tenant_id, valid, pseudonym_key)

    # Within one delivery the same id twice: the first counts, the rest compare against it.
    first_by_id: dict[str, tuple[int, str]] = {}
    rows = []
    for index, event, digest in valid:
        if event.id in first_by_id:
            continue
        first_by_id[event.id] = (index, digest)
        stored = event.model_copy(update={"recorded_at": event.recorded_at or now})
        rows.append(
            {
                "tenant_id": source.tenant_id,
                "source_id": source.source_id,
                "external_id": event.id,
                "event_id": activity_event_id(source.tenant_id, source.source_id, event.id),
                "type": event.type.value,
                "actor_id": event.actor_id,
                "occurred_at": event.occurred_at,
                "recorded_at": stored.recorded_at,
                "received_at": now,
                "content_hash": digest,
                "body": stored.model_dump(mode="json"),
            }
        )
    inserted: set[str] = set()
    if rows:
        result = await uow.session.execute(
            pg_insert(Activity)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(Activity.external_id)
        )
        inserted = set(result.scalars())
    existing: dict[str, tuple[str, dict[str, Any]]] = {}
    others = [event.id for _, event, _ in valid if event.id not in inserted]
    if others:
        found = await uow.session.execute(
            select(Activity.external_id, Activity.content_hash, Activity.body).where(
                Activity.tenant_id == source.tenant_id,
                Activity.source_id == source.source_id,
                Activity.external_id.in_(set(others)),
            )
        )
        existing = {r.external_id: (r.content_hash, r.body) for r in found}

    announced: set[str] = set()
    for index, event, digest in valid:
        event_id = activity_event_id(source.tenant_id, source.source_id, event.id)
        if event.id in inserted and event.id not in announced:
            announced.add(event.id)
            stored = event.model_copy(update={"recorded_at": event.recorded_at or now})
            uow.emit(
                new_event(
                    ActivityRecorded,
                    event_id=event_id,
                    tenant_id=source.tenant_id,
                    key=person_key(source.tenant_id, event.actor_id),
                    occurred_at=event.occurred_at,
                    payload=ActivityRecordedPayload(
                        source_id=source.source_id, timezone=source.timezone, activity=stored
                    ),
                )
            )
            outcomes[index] = Outcome(
                index=index, id=event.id, status="accepted", http_status=202, event_id=event_id
            )
            continue
        prior_digest = existing[event.id][0] if event.id in existing else first_by_id[event.id][1]
        if prior_digest == digest:
            outcomes[index] = Outcome(
                index=index, id=event.id, status="duplicate", http_status=202, event_id=event_id
            )
            continue
        prior_body = existing[event.id][1] if event.id in existing else None
        q = quarantine(
            uow,
            source,
            reason="conflict",
            body=json.dumps(items[index], ensure_ascii=False),
            detail={
                "message": "same id with different content; send a record_updated event to change it",
                "stored": prior_body,
            },
        )
        pending_quarantine.append((index, q))
        outcomes[index] = Outcome(
            index=index,
            id=event.id,
            status="conflict",
            http_status=409,
            event_id=event_id,
            errors=[
                {"field": "id", "message": "an event with this id and different content exists"}
            ],
        )
    if pending_quarantine:
        await uow.session.flush()
        for index, q in pending_quarantine:
            current = outcomes[index]
            assert current is not None
            current.quarantine_id = q.quarantine_id
    return [o for o in outcomes if o is not None]


async def list_quarantine(
    session: AsyncSession, tenant_id: uuid.UUID, limit: int = 100
) -> list[Quarantine]:
    rows = await session.scalars(
        select(Quarantine)
        .where(Quarantine.tenant_id == tenant_id)
        .order_by(Quarantine.quarantine_id.desc())
        .limit(limit)
    )
    return list(rows)
