"""crm.activities.v1 → running totals → goals.progress.v1 (one transaction per batch)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from goals.models import KpiTotal, Target
from goals.totals.maths import Delta, attainment, merge, metric_deltas
from shared.bus.consumer import Handler
from shared.db.uow import UnitOfWork
from shared.events.envelope import (
    ActivityRecorded,
    Event,
    ProgressPayload,
    ProgressUpdated,
    new_event,
    person_key,
)
from shared.runtime import Runtime


async def apply_activities(uow: UnitOfWork, events: Sequence[Event]) -> None:
    """Add the events of one tenant to the running totals and announce the new figures."""
    deltas: list[Delta] = []
    tenant_id: uuid.UUID | None = None
    for event in events:
        if isinstance(event, ActivityRecorded):
            tenant_id = event.tenant_id
            deltas.extend(metric_deltas(event.payload.activity, event.payload.timezone))
    if not deltas or tenant_id is None:
        return
    merged = merge(deltas)
    # Fixed key order: two batches touching the same rows never deadlock.
    rows = [
        {
            "tenant_id": tenant_id,
            "person_id": d.person_id,
            "metric": d.metric,
            "period_start": d.period_start,
            "period_end": d.period_end,
            "value": d.value,
            "event_count": d.events,
        }
        for _, d in sorted(merged.items())
    ]
    stmt = pg_insert(KpiTotal).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[
            KpiTotal.tenant_id,
            KpiTotal.person_id,
            KpiTotal.metric,
            KpiTotal.period_start,
        ],
        set_={
            "value": KpiTotal.value + stmt.excluded.value,
            "event_count": KpiTotal.event_count + stmt.excluded.event_count,
            "updated_at": func.now(),
        },
    ).returning(
        KpiTotal.person_id,
        KpiTotal.metric,
        KpiTotal.period_start,
        KpiTotal.period_end,
        KpiTotal.value,
        KpiTotal.event_count,
    )
    totals = (await uow.session.execute(stmt)).all()
    keys = [(t.person_id, t.metric, t.period_start) for t in totals]
    targets = {
        (r.person_id, r.metric, r.period_start): r.value
        for r in await uow.session.execute(
            select(Target.person_id, Target.metric, Target.period_start, Target.value).where(
                Target.tenant_id == tenant_id,
                tuple_(Target.person_id, Target.metric, Target.period_start).in_(keys),
            )
        )
    }
    now = datetime.now(UTC)
    for t in totals:
        target = targets.get((t.person_id, t.metric, t.period_start))
        uow.emit(
            new_event(
                ProgressUpdated,
                tenant_id=tenant_id,
                key=person_key(tenant_id, t.person_id),
                occurred_at=now,
                payload=ProgressPayload(
                    person_id=t.person_id,
                    metric=t.metric,
                    period_start=t.period_start,
                    period_end=t.period_end,
                    actual=t.value,
                    target=target,
                    attainment=attainment(t.value, target),
                    event_count=t.event_count,
                ),
            )
        )


def activities_handler(_rt: Runtime) -> Handler:
    return apply_activities
