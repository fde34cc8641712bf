from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from incentives.commission import service
from incentives.commission.schemas import CommissionOut, FlatRateIn, LineOut
from incentives.models import messaging
from shared.auth.access import can_see_person, requires
from shared.auth.tokens import Principal
from shared.db.uow import tenant_session, unit_of_work
from shared.periods import parse_month
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["commission"])


@router.put("/v1/plans/flat-rate", status_code=204)
async def put_flat_rate(
    body: FlatRateIn,
    who: Annotated[Principal, Depends(requires("admin", "finance"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> None:
    """Set the tenant's flat commission rate on collected revenue."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        await service.set_flat_rate(uow.session, who.tenant_id, body.rate, who.subject)


@router.get("/v1/commissions", response_model=list[CommissionOut])
async def get_commissions(
    who: Annotated[Principal, Depends(can_see_person)],
    rt: Annotated[Runtime, Depends(runtime_of)],
    person_id: Annotated[str, Query(min_length=1)],
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
) -> list[CommissionOut]:
    """A person's commission for a month (one entry per currency), line by line."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = await service.person_commission(
            session, who.tenant_id, person_id, parse_month(month)
        )
    return [
        CommissionOut(
            person_id=t.person_id,
            period_start=t.period_start,
            currency=t.currency,
            base_total=t.base_total,
            commission_total=t.commission_total,
            line_count=t.line_count,
            lines=[LineOut.model_validate(ln, from_attributes=True) for ln in lines],
        )
        for t, lines in rows
    ]
