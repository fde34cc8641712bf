from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from incentives.models import CommissionLine, CommissionTotal, FlatRatePlan, audit_log
from shared.db import audit


async def set_flat_rate(
    session: AsyncSession, tenant_id: uuid.UUID, rate: Decimal, updated_by: str
) -> None:
    before = await session.scalar(
        select(FlatRatePlan.rate).where(FlatRatePlan.tenant_id == tenant_id)
    )
    stmt = pg_insert(FlatRatePlan).values(tenant_id=tenant_id, rate=rate, updated_by=updated_by)
    stmt = stmt.on_conflict_do_update(
        index_elements=[FlatRatePlan.tenant_id],
        set_={"rate": stmt.excluded.rate, "updated_by": stmt.excluded.updated_by},
    )
    await session.execute(stmt)
    await audit.record(
        session,
        audit_log,
        tenant_id=tenant_id,
        actor=updated_by,
        action="plan.set" if before is None else "plan.changed",
        target_type="plan",
        target_key="flat-rate",
        before=None if before is None else {"rate": str(before)},
        after={"rate": str(rate)},
    )


async def person_commission(
    session: AsyncSession, tenant_id: uuid.UUID, person_id: str, period_start: date
) -> list[tuple[CommissionTotal, list[CommissionLine]]]:
    totals = list(
        await session.scalars(
            select(CommissionTotal)
            .where(
                CommissionTotal.tenant_id == tenant_id,
                CommissionTotal.person_id == person_id,
                CommissionTotal.period_start == period_start,
            )
            .order_by(CommissionTotal.currency)
        )
    )
    lines = list(
        await session.scalars(
            select(CommissionLine)
            .where(
                CommissionLine.tenant_id == tenant_id,
                CommissionLine.person_id == person_id,
                CommissionLine.period_start == period_start,
            )
            .order_by(CommissionLine.created_at, CommissionLine.activity_id)
        )
    )
    return [(t, [ln for ln in lines if ln.currency == t.currency]) for t in totals]
