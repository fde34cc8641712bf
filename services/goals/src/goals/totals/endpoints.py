from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from goals.models import messaging
from goals.totals import service
from goals.totals.maths import attainment
from goals.totals.schemas import TargetIn, TotalOut
from shared.auth.access import can_see_person, requires
from shared.auth.tokens import Principal
from shared.db.uow import tenant_session, unit_of_work
from shared.periods import parse_month
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["totals"])


@router.get("/v1/totals", response_model=list[TotalOut])
async def get_totals(
    who: Annotated[Principal, Depends(can_see_person)],
    rt: Annotated[Runtime, Depends(runtime_of)],
    person_id: Annotated[str, Query(min_length=1)],
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", examples=["2026-03"])],
) -> list[TotalOut]:
    """A person's running KPI totals for a month, with targets and attainment."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = await service.person_totals(session, who.tenant_id, person_id, parse_month(month))
    return [
        TotalOut(
            person_id=t.person_id,
            metric=t.metric,
            period_start=t.period_start,
            period_end=t.period_end,
            actual=t.value,
            target=target,
            attainment=attainment(t.value, target),
            event_count=t.event_count,
        )
        for t, target in rows
    ]


@router.put("/v1/targets", status_code=204)
async def put_target(
    body: TargetIn,
    who: Annotated[Principal, Depends(requires("admin", "manager", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> None:
    """Set a person's monthly target for a metric."""
    period = parse_month(body.month)
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        await service.set_target(
            uow.session,
            who.tenant_id,
            person_id=body.person_id,
            metric=body.metric,
            period_start=period,
            value=body.value,
            updated_by=who.subject,
        )
        await service.announce_progress(uow, who.tenant_id, body.person_id, body.metric, period)
