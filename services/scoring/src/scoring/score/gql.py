from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from scoring.score import service
from shared.db.uow import tenant_session
from shared.graphql import CanSeePerson, Context
from shared.periods import parse_month


@strawberry.type(description="One scorecard item's score, with the reason behind it")
class ItemScore:
    person_id: str
    period_start: date
    metric: str
    status: str
    weight: Decimal
    target: Decimal
    actual: Decimal
    ratio: Decimal
    score: Decimal
    explanation: JSON


@strawberry.type
class ScoringQuery:
    @strawberry.field(
        permission_classes=[CanSeePerson],
        description="A person's item scores for a month (YYYY-MM)",
    )
    async def scores(
        self, info: Info[Context, None], person_id: str, month: str
    ) -> list[ItemScore]:
        who = info.context.principal
        async with tenant_session(info.context.runtime.sessions, who.tenant_id) as session:
            rows = await service.person_scores(
                session, who.tenant_id, person_id, parse_month(month)
            )
        return [
            ItemScore(
                person_id=r.person_id,
                period_start=r.period_start,
                metric=r.metric,
                status=r.status,
                weight=r.weight,
                target=r.target,
                actual=r.actual,
                ratio=r.ratio,
                score=r.score,
                explanation=r.explanation,
            )
            for r in rows
        ]
