"""Tenants: created by the platform operator; everything else belongs to one."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from goals.models import Tenant
from shared.http.problems import Problem


async def create_tenant(
    session: AsyncSession,
    *,
    name: str,
    timezone: str,
    currency: str,
    fiscal_year_start_month: int = 1,
    tenant_id: uuid.UUID | None = None,
) -> Tenant:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Problem(
            422,
            "Invalid request",
            f"unknown time zone {timezone!r}",
            kind="validation-error",
            errors=[{"field": "timezone", "message": "unknown IANA time zone"}],
        ) from exc
    tenant = Tenant(
        tenant_id=tenant_id or uuid.uuid4(),
        name=name,
        timezone=timezone,
        currency=currency,
        fiscal_year_start_month=fiscal_year_start_month,
    )
    session.add(tenant)
    await session.flush()
    return tenant


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant | None:
    return await session.scalar(select(Tenant).where(Tenant.tenant_id == tenant_id))
