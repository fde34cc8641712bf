"""Reading totals, and setting targets."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from goals.models import KpiTotal, Target, audit_log
from shared.db import audit
from shared.db.uow import UnitOfWork


async def person_totals(
    session: AsyncSession, tenant_id: uuid.UUID, person_id: str, period_start: date
) -> list[tuple[KpiTotal, Decimal | None]]:
    rows = await session.execute(
        select(KpiTotal, Target.value)
        .outerjoin(
            Target,
            (Target.tenant_id == KpiTotal.tenant_id)
            & (Target.person_id == KpiTotal.person_id)
            & (Target.metric == KpiTotal.metric)
            & (Target.period_start == KpiTotal.period_start),
        )
        .where(
            KpiTotal.tenant_id == tenant_id,
            KpiTotal.person_id == person_id,
            KpiTotal.period_start == period_start,
        )
        .order_by(KpiTotal.metric)
    )
    return [(r[0], r[1]) for r in rows]


async def set_target(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    person_id: str,
    metric: str,
    period_start: date,
    value: Decimal,
    updated_by: str,
) -> None:
    before = await session.scalar(
        select(Target.value).where(
            Target.tenant_id == tenant_id,
            Target.person_id == person_id,
            Target.metric == metric,
            Target.period_start == period_start,
        )
    )
    stmt = pg_insert(Target).values(
        tenant_id=tenant_id,
        person_id=person_id,
        metric=metric,
        period_start=period_start,
        value=value,
        updated_by=updated_by,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[Target.tenant_id, Target.person_id, Target.metric, Target.period_start],
        set_={"value": stmt.excluded.value, "updated_by": stmt.excluded.updated_by},
    )
    await session.execute(stmt)
    await audit.record(
        session,
        audit_log,
        tenant_id=tenant_id,
        actor=updated_by,
        action="target.set" if before is None else "target.changed",
        target_type="target",
        target_key=f"{person_id}/{metric}/{period_start.isoformat()}",
        before=None if before is None else {"value": str(before)},
        after={"value": str(value)},
    )


async def announce_progress(
    uow: UnitOfWork, tenant_id: uuid.UUID, person_id: str, metric: str, period_start: date
) -> None:
    """Re-announce one figure (e.g. after its target changed)."""
    from datetime import UTC, datetime

    from goals.totals.maths import attainment
    from shared.events.envelope import ProgressPayload, ProgressUpdated, new_event, person_key

    total = await uow.session.get(KpiTotal, (tenant_id, person_id, metric, period_start))
    if total is None:
        return
    target = await uow.session.scalar(
        select(Target.value).where(
            Target.tenant_id == tenant_id,
            Target.person_id == person_id,
            Target.metric == metric,
            Target.period_start == period_start,
        )
    )
    uow.emit(
        new_event(
            ProgressUpdated,
            tenant_id=tenant_id,
            key=person_key(tenant_id, person_id),
            occurred_at=datetime.now(UTC),
            payload=ProgressPayload(
                person_id=person_id,
                metric=metric,
                period_start=total.period_start,
                period_end=total.period_end,
                actual=total.value,
                target=target,
                attainment=attainment(total.value, target),
                event_count=total.event_count,
            ),
        )
    )
