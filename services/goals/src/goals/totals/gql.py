from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.types import Info

from goals.totals import service
from shared.db.uow import tenant_session
from shared.graphql import CanSeePerson, Context
from shared.periods import parse_month


@strawberry.type(description="A running figure of one metric for one owner and period")
class KpiTotal:
    person_id: str
    metric: str
    period_start: date
    period_end: date
    actual: Decimal | None
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
            rows = await service.owner_figures(
                session, who.tenant_id, "person", person_id, "month", parse_month(month)
            )
        return [
            KpiTotal(
                person_id=f.owner_id,
                metric=f.metric,
                period_start=f.period_start,
                period_end=f.period_end,
                actual=f.actual,
                target=f.target,
                attainment=f.attainment,
                event_count=f.event_count,
            )
            for f in rows
        ]
