"""crm.activities.v1 → facts and running totals → goals.progress.v1, one transaction per batch."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from goals.catalog.service import tenant_catalog
from goals.totals import store
from goals.totals.engine import Engine, OrgView
from goals.totals.progress import announce
from shared.bus.consumer import Handler
from shared.db.uow import UnitOfWork
from shared.events.activity import ActivityEvent
from shared.events.envelope import ActivityRecorded, Event
from shared.runtime import Runtime


async def apply_activities(uow: UnitOfWork, events: Sequence[Event]) -> None:
    """Apply one tenant's batch: every goal the events touch moves, in one transaction."""
    recorded = [e for e in events if isinstance(e, ActivityRecorded)]
    if not recorded:
        return
    tenant_id = recorded[0].tenant_id
    session = uow.session
    await store.lock_tenant(session, tenant_id)
    timezone, fiscal_start = await store.tenant_calendar(session, tenant_id)
    catalog = await tenant_catalog(session, tenant_id)
    engine = Engine(
        timezone=timezone,
        fiscal_start_month=fiscal_start,
        catalog=catalog,
        org=OrgView(),
        closed=await store.closed_periods(session, tenant_id),
    )
    batch: list[tuple[uuid.UUID, ActivityEvent, uuid.UUID]] = [
        (e.payload.source_id, e.payload.activity, e.id) for e in recorded
    ]
    await store.load_known(session, engine, tenant_id, [(s, a) for s, a, _ in batch])
    engine.org = await store.org_view(
        session, tenant_id, store.persons_of(engine, [(s, a) for s, a, _ in batch])
    )
    for source_id, activity, event_id in batch:
        engine.apply(source_id, event_id, activity)
    touched = await store.save(session, tenant_id, engine)
    await announce(uow, tenant_id, touched, catalog, fiscal_start)


def activities_handler(_rt: Runtime) -> Handler:
    return apply_activities
