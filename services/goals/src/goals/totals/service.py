"""Reading figures: an owner's actuals for a period, with their goals' targets and attainment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from goals.catalog.service import tenant_catalog
from goals.models import Goal, Total
from goals.totals import figures
from goals.totals.progress import goal_metric_key, people_dates, period_from
from goals.totals.store import tenant_calendar


@dataclass(frozen=True)
class Figure:
    owner_kind: str
    owner_id: str
    metric: str
    period_kind: str
    period_start: date
    period_end: date
    actual: Decimal | None
    event_count: int
    target: Decimal | None
    target_set: Decimal | None
    attainment: Decimal | None
    direction: str
    goal_id: uuid.UUID | None


async def owner_figures(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    owner_kind: str,
    owner_id: str,
    period_kind: str,
    period_start: date,
) -> list[Figure]:
    """Every metric with activity or a goal for the owner in the period (ratios included)."""
    catalog = await tenant_catalog(session, tenant_id)
    _, fiscal_start = await tenant_calendar(session, tenant_id)
    totals = {
        t.metric: t
        for t in await session.scalars(
            select(Total).where(
                Total.tenant_id == tenant_id,
                Total.owner_kind == owner_kind,
                Total.owner_id == owner_id,
                Total.period_kind == period_kind,
                Total.period_start == period_start,
            )
        )
    }
    goals = {
        goal_metric_key(g): g
        for g in await session.scalars(
            select(Goal).where(
                Goal.tenant_id == tenant_id,
                Goal.owner_kind == owner_kind,
                Goal.owner_id == owner_id,
                Goal.period_kind == period_kind,
                Goal.period_start == period_start,
            )
        )
    }
    keys = set(totals) | set(goals) | catalog.dependents(totals)
    if not keys:
        return []
    period_end = next(
        iter([t.period_end for t in totals.values()] + [g.period_end for g in goals.values()]),
        None,
    )
    if period_end is None:
        return []
    period = period_from(period_kind, period_start, period_end, fiscal_start)
    dates = await people_dates(session, tenant_id, [owner_id]) if owner_kind == "person" else {}
    active_from, active_to = dates.get(owner_id, (None, None))

    def row_of(metric: str) -> tuple[Decimal, int] | None:
        t = totals.get(metric)
        return None if t is None else (t.value, t.event_count)

    out: list[Figure] = []
    for key in sorted(keys):
        definition = catalog.get(key)
        if definition is None:
            continue
        if (
            not definition.stored
            and not all(c in totals for c in figures.components(definition, catalog.get))
            and key not in goals
        ):
            continue
        actual = figures.actual_of(definition, row_of, catalog.get)
        goal = goals.get(key)
        target = (
            None
            if goal is None
            else figures.effective_target(
                goal.target,
                period,
                set_by_hand=goal.set_by_hand,
                active_from=active_from,
                active_to=active_to,
            )
        )
        own = totals.get(key)
        out.append(
            Figure(
                owner_kind=owner_kind,
                owner_id=owner_id,
                metric=key,
                period_kind=period_kind,
                period_start=period_start,
                period_end=period.end,
                actual=actual,
                event_count=0 if own is None else own.event_count,
                target=None if target is None else target.effective,
                target_set=None if target is None else target.target,
                attainment=figures.attainment(
                    actual, None if target is None else target.effective, definition.direction
                ),
                direction=definition.direction,
                goal_id=None if goal is None else goal.goal_id,
            )
        )
    return out
