"""Pay appeal queries."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from incentives.models import PayAppeal


async def pay_appeals_by_status(
    session: AsyncSession, tenant_id: uuid.UUID, status: str | None, limit: int
) -> list[PayAppeal]:
    """A tenant's pay appeals (of a status, or all), oldest first."""
    query = select(PayAppeal).where(PayAppeal.tenant_id == tenant_id)
    if status is not None:
        query = query.where(PayAppeal.status == status)
    return list(
        await session.scalars(
            query.order_by(PayAppeal.submitted_at, PayAppeal.appeal_id).limit(limit)
        )
    )
