"""Alert queries the service and the sweep share."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from goals.models import Alert, ClosedPeriod


async def open_alerts_with_a_period(session: AsyncSession, tenant_id: uuid.UUID) -> list[Alert]:
    """Open and acknowledged alerts that are about a period, locked for update."""
    return list(
        await session.scalars(
            select(Alert)
            .where(
                Alert.tenant_id == tenant_id,
                Alert.status != "resolved",
                Alert.period.is_not(None),
            )
            .order_by(Alert.opened_at)
            .with_for_update()
        )
    )


async def closed_spans(session: AsyncSession, tenant_id: uuid.UUID) -> list[tuple[date, date]]:
    """The first and last day of every closed period of the tenant."""
    rows = await session.execute(
        select(ClosedPeriod.period_start, ClosedPeriod.period_end).where(
            ClosedPeriod.tenant_id == tenant_id
        )
    )
    return [(r[0], r[1]) for r in rows]
