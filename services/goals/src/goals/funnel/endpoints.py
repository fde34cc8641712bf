"""The sales funnel over REST: lead → first contact → quote → won, for a person, a team or the
company and a period, with conversion and median days per stage and the weakest stage named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from goals.funnel import service
from goals.funnel.maths import Transition
from shared.auth.access import principal
from shared.auth.tokens import Principal
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["funnel"])


class StageOut(BaseModel):
    stage: str = Field(examples=["first_contact"])
    name: str = Field(examples=["first contact"])
    deals: int = Field(description="deals of the cohort that reached the stage")


class TransitionOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_stage: str = Field(alias="from", examples=["quote_sent"])
    to_stage: str = Field(alias="to", examples=["deal_won"])
    name: str = Field(examples=["quote → won"])
    entered: int = Field(description="deals that reached the 'from' stage")
    converted: int = Field(description="of those, deals that reached the 'to' stage")
    conversion: Decimal | None = Field(description="converted / entered; null when none entered")
    median_days: Decimal | None = Field(
        description="median days from stage to stage over the deals where both times are known"
    )
    sample: int = Field(description="how many durations the median is taken over")


class WeakestOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(examples=["quote → won"])
    from_stage: str = Field(alias="from")
    to_stage: str = Field(alias="to")
    conversion: Decimal


class FunnelOut(BaseModel):
    owner_kind: str
    owner_id: str = Field(description="a person id, a team id, or 'company'")
    period: str = Field(examples=["2026-Q1"])
    period_start: date
    period_end: date
    stages: list[StageOut]
    transitions: list[TransitionOut]
    weakest: WeakestOut | None = Field(description="the transition with the lowest conversion")
    overall: Decimal | None = Field(description="won / leads; null when no deal")


def transition_out(t: Transition) -> TransitionOut:
    return TransitionOut(
        from_stage=t.from_stage,
        to_stage=t.to_stage,
        name=t.name,
        entered=t.entered,
        converted=t.converted,
        conversion=t.conversion,
        median_days=t.median_days,
        sample=t.sample,
    )


@router.get("/v1/funnel", response_model=FunnelOut)
async def get_funnel(
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
    person_id: Annotated[str | None, Query(min_length=1)] = None,
    team_id: Annotated[str | None, Query(min_length=1)] = None,
    company: bool = False,
    period: Annotated[str | None, Query(examples=["2026-Q1", "2026", "2026-03"])] = None,
) -> FunnelOut:
    """The funnel of the deals that started in the period (their first stage event's local day)
    and whose first event was by the person, by someone then in the team (or a sub-team), or
    anyone (company=true). Each deal counts whole, even when it is won in a later period."""
    read = await service.read_funnel(
        rt, who, person_id=person_id, team_id=team_id, company=company, period=period
    )
    f = read.funnel
    weakest = f.weakest
    return FunnelOut(
        owner_kind=read.owner_kind,
        owner_id=read.owner_id,
        period=read.period.label,
        period_start=read.period.start,
        period_end=read.period.end,
        stages=[StageOut(stage=s.stage, name=s.name, deals=s.deals) for s in f.stages],
        transitions=[transition_out(t) for t in f.transitions],
        weakest=None
        if weakest is None or weakest.conversion is None
        else WeakestOut(
            name=weakest.name,
            from_stage=weakest.from_stage,
            to_stage=weakest.to_stage,
            conversion=weakest.conversion,
        ),
        overall=f.overall,
    )
