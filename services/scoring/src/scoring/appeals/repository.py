"""Appeal queries."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.models import Appeal


async def appeals_by_status(
    session: AsyncSession, tenant_id: uuid.UUID, status: str | None, limit: int
) -> list[Appeal]:
    """A tenant's appeals (of a status, or all), oldest first: the queue a committee works."""
    query = select(Appeal).where(Appeal.tenant_id == tenant_id)
    if status is not None:
        query = query.where(Appeal.status == status)
    return list(
        await session.scalars(query.order_by(Appeal.submitted_at, Appeal.appeal_id).limit(limit))
    )
