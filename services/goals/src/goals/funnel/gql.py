"""GraphQL reads of the sales funnel: see FunnelQuery."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.types import Info

from goals.funnel import service
from shared.graphql import Context


@strawberry.type(description="How many deals of the cohort reached a funnel stage")
class FunnelStage:
    stage: str
    name: str
    deals: int


@strawberry.type(description="One step of the funnel: conversion and median days")
class FunnelTransition:
    from_stage: str = strawberry.field(name="from")
    to_stage: str = strawberry.field(name="to")
    name: str
    entered: int
    converted: int
    conversion: Decimal | None
    median_days: Decimal | None
    sample: int


@strawberry.type(description="The transition with the lowest conversion")
class FunnelWeakest:
    name: str
    from_stage: str = strawberry.field(name="from")
    to_stage: str = strawberry.field(name="to")
    conversion: Decimal


@strawberry.type(
    name="Funnel",
    description="Lead → first contact → quote → won for the deals that started in a period",
)
class FunnelResult:
    owner_kind: str
    owner_id: str
    period: str
    period_start: date
    period_end: date
    stages: list[FunnelStage]
    transitions: list[FunnelTransition]
    weakest: FunnelWeakest | None
    overall: Decimal | None


@strawberry.type
class FunnelQuery:
    @strawberry.field(
        description="The sales funnel of a person, a team or the company (exactly one) for a "
        "period (2026, 2026-H1, 2026-Q1, 2026-03, 2026-W09)"
    )
    async def funnel(
        self,
        info: Info[Context, None],
        period: str,
        person_id: str | None = None,
        team_id: str | None = None,
        company: bool = False,
    ) -> FunnelResult:
        read = await service.read_funnel(
            info.context.runtime,
            info.context.principal,
            person_id=person_id,
            team_id=team_id,
            company=company,
            period=period,
        )
        f = read.funnel
        weakest = f.weakest
        return FunnelResult(
            owner_kind=read.owner_kind,
            owner_id=read.owner_id,
            period=read.period.label,
            period_start=read.period.start,
            period_end=read.period.end,
            stages=[FunnelStage(stage=s.stage, name=s.name, deals=s.deals) for s in f.stages],
            transitions=[
                FunnelTransition(
                    from_stage=t.from_stage,
                    to_stage=t.to_stage,
                    name=t.name,
                    entered=t.entered,
                    converted=t.converted,
                    conversion=t.conversion,
                    median_days=t.median_days,
                    sample=t.sample,
                )
                for t in f.transitions
            ],
            weakest=None
            if weakest is None or weakest.conversion is None
            else FunnelWeakest(
                name=weakest.name,
                from_stage=weakest.from_stage,
                to_stage=weakest.to_stage,
                conversion=weakest.conversion,
            ),
            overall=f.overall,
        )
