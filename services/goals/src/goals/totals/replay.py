"""Rebuild a tenant's facts and totals from the system of record (the accepted activities the
totals consumer has taken in), with the same engine the worker uses: the figures come out
identical. Closed periods keep their frozen totals.

Run for every tenant with ``python -m goals.replay`` (or ``--tenant <id>``); the API runs it for
one tenant when a change of the org or the catalog reaches back into recorded history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from goals.catalog.service import tenant_catalog
from goals.models import Activity, messaging
from goals.totals import store
from goals.totals.engine import Engine
from goals.totals.progress import announce
from shared.db.uow import UnitOfWork
from shared.events.activity import ActivityEvent

CONSUMER_GROUP = "goals"
PAGE = 5000


@dataclass(frozen=True)
class Rebuilt:
    activities: int
    totals: int
    announced: int


async def rebuild(uow: UnitOfWork, tenant_id: uuid.UUID, *, announce_goals: bool = True) -> Rebuilt:
    session = uow.session
    await store.lock_tenant(session, tenant_id)
    timezone, fiscal_start = await store.tenant_calendar(session, tenant_id)
    closed = await store.closed_periods(session, tenant_id)
    catalog = await tenant_catalog(session, tenant_id)
    engine = Engine(
        timezone=timezone,
        fiscal_start_month=fiscal_start,
        catalog=catalog,
        org=await store.org_view(session, tenant_id, None),
        closed=closed,
        record_late=False,
    )
    await store.clear_open(session, tenant_id, closed)
    inbox = messaging.inbox.c
    query = (
        select(Activity.source_id, Activity.event_id, Activity.body)
        .join(
            messaging.inbox,
            (inbox.event_id == Activity.event_id)
            & (inbox.consumer_group == f"{uow.topic_prefix}{CONSUMER_GROUP}"),
        )
        .where(Activity.tenant_id == tenant_id)
        .order_by(Activity.received_at, Activity.source_id, Activity.external_id)
        .execution_options(yield_per=PAGE)
    )
    count = 0
    async for source_id, event_id, body in await session.stream(query):
        engine.apply(source_id, event_id, ActivityEvent.model_validate(body))
        count += 1
    touched = await store.save(session, tenant_id, engine)
    announced = 0
    if announce_goals:
        announced = await announce(
            uow, tenant_id, touched, catalog, fiscal_start, person_months=False
        )
    return Rebuilt(count, len(touched), announced)
