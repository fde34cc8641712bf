from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from incentives.commission import service
from shared.db.uow import tenant_session
from shared.graphql import CanSeePerson, Context
from shared.periods import parse_month


@strawberry.type(description="The commission one payment or refund earned, and why")
class CommissionLine:
    activity_id: str
    activity_type: str
    currency: str
    base: Decimal
    rate: Decimal
    commission: Decimal
    explanation: JSON


@strawberry.type(description="A person's commission for a month in one currency")
class Commission:
    person_id: str
    period_start: date
    currency: str
    base_total: Decimal
    commission_total: Decimal
    line_count: int
    lines: list[CommissionLine]


@strawberry.type
class IncentivesQuery:
    @strawberry.field(
        permission_classes=[CanSeePerson], description="A person's commission for a month (YYYY-MM)"
    )
    async def commissions(
        self, info: Info[Context, None], person_id: str, month: str
    ) -> list[Commission]:
        who = info.context.principal
        async with tenant_session(info.context.runtime.sessions, who.tenant_id) as session:
            rows = await service.person_commission(
                session, who.tenant_id, person_id, parse_month(month)
            )
        return [
            Commission(
                person_id=t.person_id,
                period_start=t.period_start,
                currency=t.currency,
                base_total=t.base_total,
                commission_total=t.commission_total,
                line_count=t.line_count,
                lines=[
                    CommissionLine(
                        activity_id=ln.activity_id,
                        activity_type=ln.activity_type,
                        currency=ln.currency,
                        base=ln.base,
                        rate=ln.rate,
                        commission=ln.commission,
                        explanation=ln.explanation,
                    )
                    for ln in lines
                ],
            )
            for t, lines in rows
        ]
