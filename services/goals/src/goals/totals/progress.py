"""goals.progress.v1: after totals move, announce the figures of every goal they touch (and each
person's monthly figures, which scoring reads), with target, actual and attainment."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from goals.catalog.definitions import variant_key
from goals.models import Goal, Person, Total
from goals.totals import figures
from goals.totals.contributions import Catalog, RowKey
from shared.db.uow import UnitOfWork
from shared.events.envelope import ProgressPayload, ProgressUpdated, new_event
from shared.periods import Period, PeriodKind

OwnerPeriod = tuple[str, str, str, date]  # owner_kind, owner_id, period_kind, period_start


def metric_key(metric: str, dimension: str) -> str:
    """The totals key of a goal's metric: the metric, or its variant for a dimension value."""
    if not dimension:
        return metric
    name, _, value = dimension.partition("=")
    return variant_key(metric, name, value)


def goal_metric_key(goal: Goal) -> str:
    return metric_key(goal.metric, goal.dimension)


async def rows_for(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    pairs: Iterable[OwnerPeriod],
    metrics: Iterable[str],
) -> dict[RowKey, tuple[date, Decimal, int]]:
    pairs, metrics = sorted(set(pairs)), sorted(set(metrics))
    if not pairs or not metrics:
        return {}
    out: dict[RowKey, tuple[date, Decimal, int]] = {}
    for i in range(0, len(pairs), 1000):
        rows = await session.execute(
            select(Total).where(
                Total.tenant_id == tenant_id,
                tuple_(Total.owner_kind, Total.owner_id, Total.period_kind, Total.period_start).in_(
                    pairs[i : i + 1000]
                ),
                Total.metric.in_(metrics),
            )
        )
        for (t,) in rows:
            out[(t.owner_kind, t.owner_id, t.metric, t.period_kind, t.period_start)] = (
                t.period_end,
                t.value,
                t.event_count,
            )
    return out


async def people_dates(
    session: AsyncSession, tenant_id: uuid.UUID, persons: Iterable[str]
) -> dict[str, tuple[date | None, date | None]]:
    wanted = sorted(set(persons))
    if not wanted:
        return {}
    rows = await session.execute(
        select(Person.person_id, Person.active_from, Person.active_to).where(
            Person.tenant_id == tenant_id, Person.person_id.in_(wanted)
        )
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def period_from(kind: str, start: date, end: date, fiscal_start_month: int) -> Period:
    k = PeriodKind(kind)
    fiscal = (
        fiscal_start_month if k in (PeriodKind.YEAR, PeriodKind.HALF, PeriodKind.QUARTER) else 1
    )
    return Period(k, start, end, fiscal)


async def announce(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    touched: dict[RowKey, tuple[date, Decimal, int]],
    catalog: Catalog,
    fiscal_start_month: int,
    *,
    person_months: bool = True,
) -> int:
    """Emit progress for the goals these rows feed; returns how many events were emitted."""
    if not touched:
        return 0
    session = uow.session
    pairs = {(k[0], k[1], k[3], k[4]) for k in touched}
    moved = {k[2] for k in touched}
    candidates = moved | catalog.dependents(moved)
    bases = {c.partition("|")[0] for c in candidates}
    goals: list[Goal] = []
    pair_list = sorted(pairs)
    for i in range(0, len(pair_list), 1000):
        goals.extend(
            await session.scalars(
                select(Goal).where(
                    Goal.tenant_id == tenant_id,
                    tuple_(Goal.owner_kind, Goal.owner_id, Goal.period_kind, Goal.period_start).in_(
                        pair_list[i : i + 1000]
                    ),
                    Goal.metric.in_(sorted(bases)),
                )
            )
        )
    goals = [g for g in goals if goal_metric_key(g) in candidates]
    # Figures made of several rows (ratios) need the rows that did not move too.
    needed: set[str] = set()
    for g in goals:
        definition = catalog.get(goal_metric_key(g))
        if definition is not None and not definition.stored:
            needed |= figures.components(definition, catalog.get)
    rows = dict(touched)
    if needed:
        extra_pairs = {(g.owner_kind, g.owner_id, g.period_kind, g.period_start) for g in goals}
        for k, v in (await rows_for(session, tenant_id, extra_pairs, needed)).items():
            rows.setdefault(k, v)
    dates = await people_dates(
        session, tenant_id, [g.owner_id for g in goals if g.owner_kind == "person"]
    )
    now = datetime.now(UTC)
    emitted: set[RowKey] = set()
    count = 0
    for g in sorted(goals, key=lambda g: str(g.goal_id)):
        key = goal_metric_key(g)
        definition = catalog.get(key)
        if definition is None:
            continue
        pair = (g.owner_kind, g.owner_id, g.period_kind, g.period_start)
        period = period_from(g.period_kind, g.period_start, g.period_end, fiscal_start_month)

        def row_of(metric: str, pair: OwnerPeriod = pair) -> tuple[Decimal, int] | None:
            hit = rows.get((pair[0], pair[1], metric, pair[2], pair[3]))
            return None if hit is None else (hit[1], hit[2])

        actual = figures.actual_of(definition, row_of, catalog.get)
        active_from, active_to = (
            dates.get(g.owner_id, (None, None)) if g.owner_kind == "person" else (None, None)
        )
        target = figures.effective_target(
            g.target,
            period,
            set_by_hand=g.set_by_hand,
            active_from=active_from,
            active_to=active_to,
        )
        own = rows.get((g.owner_kind, g.owner_id, key, g.period_kind, g.period_start))
        _emit(
            uow,
            tenant_id,
            now,
            ProgressPayload(
                person_id=g.owner_id,
                owner_kind=g.owner_kind,  # type: ignore[arg-type]
                metric=key,
                period_kind=g.period_kind,  # type: ignore[arg-type]
                period_start=g.period_start,
                period_end=g.period_end,
                actual=actual,
                target=target.effective,
                target_set=target.target,
                attainment=figures.attainment(actual, target.effective, definition.direction),
                event_count=0 if own is None else own[2],
                goal_id=g.goal_id,
                direction=definition.direction,
            ),
        )
        emitted.add((g.owner_kind, g.owner_id, key, g.period_kind, g.period_start))
        count += 1
    if person_months:
        for k, (end, _value, events) in sorted(touched.items()):
            # Every period but weeks: scorecards (scoring) are per month, quarter, half or year.
            if k[0] != "person" or k[3] == "week" or k in emitted:
                continue
            definition = catalog.get(k[2])
            if definition is None:
                continue
            actual = figures.actual_of(definition, lambda m, k=k: _pick(touched, k, m), catalog.get)
            _emit(
                uow,
                tenant_id,
                now,
                ProgressPayload(
                    person_id=k[1],
                    metric=k[2],
                    period_kind=k[3],  # type: ignore[arg-type]
                    period_start=k[4],
                    period_end=end,
                    actual=actual,
                    event_count=events,
                    direction=definition.direction,
                ),
            )
            count += 1
    return count


def _pick(
    rows: dict[RowKey, tuple[date, Decimal, int]], k: RowKey, metric: str
) -> tuple[Decimal, int] | None:
    hit = rows.get((k[0], k[1], metric, k[3], k[4]))
    return None if hit is None else (hit[1], hit[2])


def _emit(uow: UnitOfWork, tenant_id: uuid.UUID, now: datetime, payload: ProgressPayload) -> None:
    key = (
        f"{tenant_id}:{payload.person_id}"
        if payload.owner_kind == "person"
        else f"{tenant_id}:{payload.owner_kind}:{payload.person_id}"
    )
    uow.emit(
        new_event(ProgressUpdated, tenant_id=tenant_id, key=key, occurred_at=now, payload=payload)
    )
