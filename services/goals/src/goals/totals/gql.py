from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.types import Info

from goals.totals import service
from goals.totals.maths import attainment
from shared.db.uow import tenant_session
from shared.graphql import CanSeePerson, Context
from shared.periods import parse_month


@strawberry.type(description="A person's running total of one metric for one month")
class KpiTotal:
    person_id: str
    metric: str
    period_start: date
    period_end: date
    actual: Decimal
    target: Decimal | None
    attainment: Decimal | None
    event_count: int


@strawberry.type
class TotalsQuery:
    @strawberry.field(
        permission_classes=[CanSeePerson],
        description="A person's running KPI totals for a month (YYYY-MM)",
    )
    async def kpi_totals(
        self, info: Info[Context, None], person_id: str, month: str
    ) -> list[KpiTotal]:
        who = info.context.principal
        async with tenant_session(info.context.runtime.sessions, who.tenant_id) as session:
            rows = await service.person_totals(
                session, who.tenant_id, person_id, parse_month(month)
            )
        return [
            KpiTotal(
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
