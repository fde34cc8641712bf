"""The tenant's rate table: payments in another currency are converted on their payment date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from incentives.models import FxRate, audit_log, messaging
from shared.auth.access import requires
from shared.auth.tokens import Principal
from shared.db import audit
from shared.db.uow import tenant_session, unit_of_work
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["pay"])


class RateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["USD"])
    base: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    rate: Decimal = Field(gt=0, description="1 currency = rate base")
    valid_from: date


@router.put("/v1/fx-rates", status_code=204)
async def put_rate(
    body: RateIn,
    who: Annotated[Principal, Depends(requires("admin", "finance"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> None:
    """A rate from a date on (the latest rate on or before a payment's date applies)."""
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        await uow.session.merge(FxRate(tenant_id=who.tenant_id, **body.model_dump()))
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="fx_rate.set",
            target_type="fx_rate",
            target_key=f"{body.currency}/{body.base}/{body.valid_from}",
            before=None,
            after={"rate": str(body.rate)},
        )


@router.get("/v1/fx-rates")
async def list_rates(
    who: Annotated[Principal, Depends(requires("admin", "finance"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[dict[str, Any]]:
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = await session.scalars(
            select(FxRate)
            .where(FxRate.tenant_id == who.tenant_id)
            .order_by(FxRate.currency, FxRate.valid_from)
        )
        return [
            {
                "currency": r.currency,
                "base": r.base,
                "rate": str(r.rate),
                "valid_from": r.valid_from.isoformat(),
            }
            for r in rows
        ]
