from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from scoring.models import messaging
from scoring.score import service
from scoring.score.schemas import ScoreItemIn, ScoreOut
from shared.auth.access import can_see_person, requires
from shared.auth.tokens import Principal
from shared.db.uow import tenant_session, unit_of_work
from shared.periods import parse_month
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["scores"])


@router.put("/v1/score-items/{metric}", status_code=204)
async def put_item(
    metric: Annotated[str, Path(min_length=1)],
    body: ScoreItemIn,
    who: Annotated[Principal, Depends(requires("admin", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> None:
    """Score a goals metric as a quantitative item (weight, direction, cap, floor)."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        await service.set_item(uow.session, who.tenant_id, metric, body, who.subject)


@router.get("/v1/scores", response_model=list[ScoreOut])
async def get_scores(
    who: Annotated[Principal, Depends(can_see_person)],
    rt: Annotated[Runtime, Depends(runtime_of)],
    person_id: Annotated[str, Query(min_length=1)],
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
) -> list[ScoreOut]:
    """A person's item scores for a month, each with its explanation."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = await service.person_scores(session, who.tenant_id, person_id, parse_month(month))
    return [ScoreOut.model_validate(r, from_attributes=True) for r in rows]
