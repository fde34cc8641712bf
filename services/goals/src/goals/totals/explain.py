"""Why a figure is what it is: the surviving events behind one owner's metric in one period, each
with what it contributed (recomputed with the same rules the totals use)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from goals.catalog.definitions import MetricDefinition
from goals.catalog.service import tenant_catalog
from goals.models import Fact
from goals.totals import figures
from goals.totals.contributions import Catalog, Contributions, contribute
from goals.totals.store import org_view, tenant_calendar
from shared.events.activity import ActivityEvent
from shared.periods import Period, periods_containing

LIMIT = 500


@dataclass(frozen=True)
class Line:
    metric: str
    activity_id: str
    type: str
    occurred_at: str
    actor_id: str
    value: Decimal | None  # what it added (sum, count); None for distinct keys
    key: str | None  # the distinct value it names (distinct counts)
    corrected: bool


@dataclass(frozen=True)
class Explanation:
    metric: str
    kind: str
    formula: str
    actual: Decimal | None
    lines: list[Line]
    truncated: bool


FORMULAS = {
    "count": "number of matching events",
    "sum": "sum of {field} over matching events (minus {subtract})",
    "distinct_count": "number of distinct {field} values",
    "average": "sum of {field} / number of matching events",
    "ratio": "{numerator} / {denominator}",
    "rate": "{numerator} / {denominator}",
}


def formula(m: MetricDefinition) -> str:
    text = FORMULAS[m.kind.value].format(
        field=m.value_field(),
        subtract=", ".join(t.value for t in m.subtract_types) or "nothing",
        numerator=m.numerator,
        denominator=m.denominator,
    )
    return f"1 − {text}" if m.complement else text


async def explain(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    owner_kind: str,
    owner_id: str,
    period: Period,
    metric_key: str,
) -> Explanation | None:
    catalog = await tenant_catalog(session, tenant_id)
    metric = catalog.get(metric_key)
    if metric is None:
        return None
    timezone, fiscal_start = await tenant_calendar(session, tenant_id)
    parts = [catalog.get(k) for k in sorted(figures.components(metric, catalog.get))]
    stored = [p for p in parts if p is not None]
    types = sorted({t.value for m in stored for t in (*m.event_types, *m.subtract_types)})
    rows = list(
        await session.scalars(
            select(Fact)
            .where(
                Fact.tenant_id == tenant_id,
                Fact.type.in_(types),
                Fact.local_day >= period.start,
                Fact.local_day <= period.end,
                Fact.body.is_not(None),
            )
            .order_by(Fact.occurred_at, Fact.external_id)
        )
    )
    org = await org_view(session, tenant_id, None)
    only = Catalog(stored)
    lines: list[Line] = []
    totals: dict[str, tuple[Decimal, int]] = {}
    distinct: dict[str, set[str]] = {}
    truncated = False
    for row in rows:
        assert row.body is not None and row.local_day is not None
        activity = ActivityEvent.model_validate(row.body)
        out = Contributions()
        periods = [
            p for p in periods_containing(row.local_day, fiscal_start) if p.kind == period.kind
        ]
        contribute(out, activity, 1, row.local_day, periods, only, org.owners_of)
        for m in stored:
            key = (owner_kind, owner_id, m.key, period.kind.value, period.start)
            cell = out.rows.get(key)
            if cell is None:
                continue
            names = [v for (k, v), refs in out.distinct.items() if k == key and refs > 0]
            value = Decimal(cell[0])
            if names:
                distinct.setdefault(m.key, set()).update(names)
            else:
                prior = totals.get(m.key, (Decimal(0), 0))
                totals[m.key] = (prior[0] + value, prior[1] + int(cell[1]))
            if len(lines) < LIMIT:
                lines.append(
                    Line(
                        metric=m.key,
                        activity_id=activity.id,
                        type=activity.type.value,
                        occurred_at=activity.occurred_at.isoformat(),
                        actor_id=activity.actor_id,
                        value=None if names else value,
                        key=names[0] if names else None,
                        corrected=row.correction_key is not None,
                    )
                )
            else:
                truncated = True
    for key, values in distinct.items():
        totals[key] = (Decimal(len(values)), len(values))

    def row_of(key: str) -> tuple[Decimal, int] | None:
        return totals.get(key)

    _ = timezone
    return Explanation(
        metric=metric_key,
        kind=metric.kind.value,
        formula=formula(metric),
        actual=figures.actual_of(metric, row_of, catalog.get),
        lines=lines,
        truncated=truncated,
    )
