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
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from pydantic import ValidationError
from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from goals.ingest.schemas import Outcome
from goals.models import (
    Activity,
    Erasure,
    Person,
    PersonAlias,
    Quarantine,
    RetiredSecret,
    Source,
    Tenant,
)
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
from shared.observability.metrics import WEBHOOKS
from shared.privacy import subject_hash

MAX_BATCH = 500


async def create_source(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    kind: str,
    name: str,
    secret: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Source:
    """A source's secret: generated (the generic signing secret, Salesforce's path token,
    Pipedrive's Basic password) unless the vendor issues it (HubSpot's app secret)."""
    source = Source(
        source_id=uuid.uuid4(),
        tenant_id=tenant_id,
        kind=kind,
        name=name,
        secret=secret or "whsec_" + secrets.token_urlsafe(32),
        settings=settings or {},
    )
    session.add(source)
    await session.flush()
    return source


async def rotate_secret(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    source_id: uuid.UUID,
    *,
    actor: str,
    grace_seconds: int,
    secret: str | None = None,
) -> Source | None:
    """A new current secret; the old one still verifies for the grace period."""
    source = await session.scalar(
        select(Source)
        .where(Source.tenant_id == tenant_id, Source.source_id == source_id)
        .with_for_update()
    )
    if source is None:
        return None
    if grace_seconds > 0:
        session.add(
            RetiredSecret(
                tenant_id=tenant_id,
                source_id=source_id,
                secret=source.secret,
                expires_at=datetime.now(UTC) + timedelta(seconds=grace_seconds),
                retired_by=actor,
            )
        )
    source.secret = secret or "whsec_" + secrets.token_urlsafe(32)
    await session.flush()
    _sources.pop(source_id, None)
    return source


@dataclass(frozen=True)
class SourceInfo:
    """What a webhook needs to know of its source (cached briefly: every delivery asks)."""

    source_id: uuid.UUID
    tenant_id: uuid.UUID
    kind: str
    secrets: tuple[str, ...]  # the current one first, then those still in their grace period
    timezone: str
    settings: dict[str, Any] = field(default_factory=dict)


_SOURCE_TTL = 10.0
_sources: dict[uuid.UUID, tuple[float, SourceInfo]] = {}
# Tenants seen without any erasure (until the time given); erasing someone clears the entry.
_no_erasures: dict[uuid.UUID, float] = {}


def forget_source(source_id: uuid.UUID) -> None:
    """Drop this process's cached copy (other processes notice within the cache time)."""
    _sources.pop(source_id, None)


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
            select(
                Source.source_id,
                Source.tenant_id,
                Source.kind,
                Source.secret,
                Source.settings,
                Tenant.timezone,
            )
            .join(Tenant, Tenant.tenant_id == Source.tenant_id)
            .where(Source.source_id == source_id)
        )
    ).first()
    if row is None:
        _sources.pop(source_id, None)
        return None
    retired = await uow.session.scalars(
        select(RetiredSecret.secret)
        .where(
            RetiredSecret.source_id == source_id,
            RetiredSecret.expires_at > datetime.now(UTC),
        )
        .order_by(RetiredSecret.expires_at.desc())
    )
    info = SourceInfo(
        row.source_id,
        row.tenant_id,
        row.kind,
        (row.secret, *retired),
        row.timezone,
        dict(row.settings or {}),
    )
    _sources[source_id] = (time.monotonic() + _SOURCE_TTL, info)
    return info


def activity_event_id(tenant_id: uuid.UUID, source_id: uuid.UUID, external_id: str) -> uuid.UUID:
    """The bus id of an accepted activity (UUIDv5 of tenant, source and the source's own id)."""
    return derived_event_id("activity", tenant_id, source_id, external_id)


def content_hash(event: ActivityEvent) -> str:
    """A hash of what the source sent (before defaults), insensitive to key order and spacing."""
    canonical = json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Discarded:
    """A failure not kept (a replay from quarantine reports it; the original row stays open)."""

    quarantine_id = None


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
    uow.after_commit(lambda: WEBHOOKS.labels(source.kind, "quarantined").inc())
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


_has_people: dict[uuid.UUID, tuple[float, bool]] = {}


def forget_people(tenant_id: uuid.UUID) -> None:
    _has_people.pop(tenant_id, None)


async def resolve_actors(
    uow: UnitOfWork, source: SourceInfo, valid: list[tuple[int, ActivityEvent, str]]
) -> tuple[list[tuple[int, ActivityEvent, str]], list[tuple[int, ActivityEvent, list[str]]]]:
    """Actors through the people registry: a source's alias of a person (a HubSpot owner id...) or
    the person's own id. Until a tenant registers people, ids are taken as they come."""
    tenant_id = source.tenant_id
    cached = _has_people.get(tenant_id)
    if cached is not None and cached[0] > time.monotonic():
        registry = cached[1]
    else:
        registry = bool(
            await uow.session.scalar(select(exists().where(Person.tenant_id == tenant_id)))
        )
        _has_people[tenant_id] = (time.monotonic() + _SOURCE_TTL, registry)
    if not registry:
        return valid, []
    names = {e.actor_id for _, e, _ in valid} | {
        s.actor_id for _, e, _ in valid for s in (e.credit_split or [])
    }
    aliases = {
        r[0]: r[1]
        for r in await uow.session.execute(
            select(PersonAlias.alias, PersonAlias.person_id).where(
                PersonAlias.tenant_id == tenant_id,
                PersonAlias.source_id == source.source_id,
                PersonAlias.alias.in_(sorted(names)),
            )
        )
    }
    people = set(
        await uow.session.scalars(
            select(Person.person_id).where(
                Person.tenant_id == tenant_id, Person.person_id.in_(sorted(names))
            )
        )
    )

    def person(name: str) -> str | None:
        return aliases.get(name) or (name if name in people else None)

    out: list[tuple[int, ActivityEvent, str]] = []
    unknown: list[tuple[int, ActivityEvent, list[str]]] = []
    for index, event, digest in valid:
        involved = [event.actor_id, *(s.actor_id for s in event.credit_split or [])]
        missing = sorted({n for n in involved if person(n) is None})
        if missing:
            unknown.append((index, event, missing))
            continue
        update: dict[str, Any] = {"actor_id": person(event.actor_id)}
        if event.credit_split:
            update["credit_split"] = [
                share.model_copy(update={"actor_id": person(share.actor_id)})
                for share in event.credit_split
            ]
        out.append((index, event.model_copy(update=update), digest))
    return out, unknown


async def accept_events(
    uow: UnitOfWork,
    source: SourceInfo,
    items: list[Any],
    *,
    received_at: datetime | None = None,
    pseudonym_key: str | None = None,
    keep_failures: bool = True,
    backfill: bool = False,
) -> list[Outcome]:
    """Validate, store and announce each item; each is accepted, a duplicate, or quarantined.

    ``keep_failures=False`` (a replay from quarantine): what still fails is reported, not stored
    again. ``backfill``: historical activities (never raise late-entry alerts)."""
    now = received_at or datetime.now(UTC)

    def keep(*, reason: str, body: str, detail: dict[str, Any]) -> Any:
        if not keep_failures:
            return _Discarded()
        return quarantine(uow, source, reason=reason, body=body, detail=detail)

    outcomes: list[Outcome | None] = [None] * len(items)
    valid: list[tuple[int, ActivityEvent, str]] = []
    pending_quarantine: list[tuple[int, Quarantine]] = []
    for index, item in enumerate(items):
        try:
            event = ActivityEvent.model_validate(item)
        except ValidationError as exc:
            errors = field_errors(exc)
            q = keep(
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
    if valid:
        resolved, unknown = await resolve_actors(uow, source, valid)
        for index, event, missing in unknown:
            q = keep(
                reason="unknown_actor",
                body=json.dumps(items[index], ensure_ascii=False, default=str),
                detail={
                    "actors": missing,
                    "message": "no person or alias of this source has this id: add the person "
                    "(or the alias) and the event is replayed",
                },
            )
            pending_quarantine.append((index, q))
            outcomes[index] = Outcome(
                index=index,
                id=event.id,
                status="invalid",
                http_status=422,
                errors=[{"field": "actor_id", "message": f"unknown actor(s) {', '.join(missing)}"}],
            )
        valid = resolved

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
                "backfill": backfill,
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
                        source_id=source.source_id,
                        timezone=source.timezone,
                        activity=stored,
                        backfill=backfill,
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
        q = keep(
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
    if pending_quarantine and keep_failures:
        await uow.session.flush()
        for index, q in pending_quarantine:
            current = outcomes[index]
            assert current is not None
            current.quarantine_id = q.quarantine_id
    done = [o for o in outcomes if o is not None]
    counts = Counter(o.status for o in done if o.status in ("accepted", "duplicate"))
    for status, n in counts.items():
        uow.after_commit(partial(WEBHOOKS.labels(source.kind, status).inc, n))
    return done


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


async def source_info(
    session: AsyncSession, tenant_id: uuid.UUID, source_id: uuid.UUID
) -> SourceInfo | None:
    """A source of the tenant in scope (no cross-tenant read): for replays."""
    row = (
        await session.execute(
            select(
                Source.source_id,
                Source.tenant_id,
                Source.kind,
                Source.secret,
                Source.settings,
                Tenant.timezone,
            )
            .join(Tenant, Tenant.tenant_id == Source.tenant_id)
            .where(Source.tenant_id == tenant_id, Source.source_id == source_id)
        )
    ).first()
    if row is None:
        return None
    return SourceInfo(
        row.source_id,
        row.tenant_id,
        row.kind,
        (row.secret,),
        row.timezone,
        dict(row.settings or {}),
    )


async def replay(
    uow: UnitOfWork,
    row: Quarantine,
    actor: str,
    *,
    event: dict[str, Any] | None = None,
    pseudonym_key: str | None = None,
) -> Outcome:
    """Run a quarantined event (as stored, or as fixed) through ingestion again. Idempotent: the
    event's id is its key, so replaying twice yields one event; a replayed row answers the same."""
    if row.status == "replayed":
        return Outcome(id=None, status="duplicate", http_status=202, event_id=row.event_id)
    source = await source_info(uow.session, row.tenant_id, row.source_id)
    if source is None:
        return Outcome(
            status="invalid",
            http_status=422,
            errors=[{"field": "source_id", "message": "the source is gone"}],
        )
    if event is not None:
        item: Any = event
    else:
        try:
            item = json.loads(row.body)
        except ValueError:
            return Outcome(
                status="invalid",
                http_status=422,
                errors=[
                    {
                        "field": "event",
                        "message": "the stored body is not JSON: send the fixed event",
                    }
                ],
            )
    (outcome,) = await accept_events(
        uow, source, [item], pseudonym_key=pseudonym_key, keep_failures=False
    )
    if outcome.status in ("accepted", "duplicate"):
        row.status = "replayed"
        row.resolved_at = datetime.now(UTC)
        row.resolved_by = actor
        row.event_id = outcome.event_id
        await uow.session.flush()
    return outcome


async def replay_unknown_actors(
    uow: UnitOfWork, tenant_id: uuid.UUID, actor: str, pseudonym_key: str | None = None
) -> int:
    """Once people or aliases exist, the events that named them come out of quarantine."""
    forget_people(tenant_id)
    rows = list(
        await uow.session.scalars(
            select(Quarantine)
            .where(
                Quarantine.tenant_id == tenant_id,
                Quarantine.reason == "unknown_actor",
                Quarantine.status == "open",
            )
            .order_by(Quarantine.quarantine_id)
        )
    )
    done = 0
    for row in rows:
        outcome = await replay(uow, row, actor, pseudonym_key=pseudonym_key)
        done += outcome.status in ("accepted", "duplicate")
    return done
