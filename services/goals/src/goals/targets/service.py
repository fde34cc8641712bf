"""Goals: set and change targets (versioned with who, when, why; audited), SMART checks, and
re-announcing a goal's progress when its target moves. Closed periods are immutable."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from goals.catalog.definitions import DIMENSIONS, MetricDefinition
from goals.catalog.service import definitions
from goals.models import ClosedPeriod, Goal, GoalVersion, audit_log, org
from goals.totals import figures
from goals.totals.contributions import Catalog
from goals.totals.progress import announce, goal_metric_key, rows_for
from goals.totals.store import tenant_calendar
from shared.db import audit
from shared.db.uow import UnitOfWork
from shared.http.problems import Problem, invalid_field
from shared.periods import Period, previous

OWNER_KINDS = ("company", "team", "person")
COMPANY_ID = "company"


def invalid(field_name: str, message: str) -> Problem:
    return invalid_field(field_name, message)


@dataclass
class Saved:
    goal: Goal
    created: bool
    warnings: list[dict[str, str]] = field(default_factory=list)


async def ensure_open(session: AsyncSession, tenant_id: uuid.UUID, period: Period) -> None:
    closed = await session.scalar(
        select(func.count())
        .select_from(ClosedPeriod)
        .where(
            ClosedPeriod.tenant_id == tenant_id,
            ClosedPeriod.period_kind == period.kind.value,
            ClosedPeriod.period_start == period.start,
        )
    )
    if closed:
        raise Problem(
            409,
            "Period closed",
            f"{period.label} is closed: its targets cannot change",
            kind="period-closed",
            errors=[{"field": "period", "message": f"{period.label} is closed"}],
        )


async def metric_definition(
    session: AsyncSession, tenant_id: uuid.UUID, metric: str, dimension: str
) -> MetricDefinition:
    found = (await definitions(session, tenant_id)).get(metric)
    if found is None:
        raise invalid("metric", f"unknown metric {metric!r}: a goal must name a measurable metric")
    if dimension:
        name, sep, value = dimension.partition("=")
        if not sep or name not in DIMENSIONS or not value:
            raise invalid(
                "dimension",
                f"expected <dimension>=<value> with dimension one of {sorted(DIMENSIONS)}",
            )
        if not found.stored:
            raise invalid("dimension", "a ratio cannot be split by dimension: split its parts")
    return found


async def check_owner(
    session: AsyncSession, tenant_id: uuid.UUID, kind: str, owner_id: str
) -> None:
    if kind not in OWNER_KINDS:
        raise invalid("owner_kind", f"one of {OWNER_KINDS}")
    if kind == "company" and owner_id != COMPANY_ID:
        raise invalid("owner_id", f"the company's owner id is {COMPANY_ID!r}")
    if kind == "team":
        t = org.teams.c
        found = await session.scalar(
            select(t.team_id).where(t.tenant_id == tenant_id, t.team_id == owner_id)
        )
        if found is None:
            raise invalid("owner_id", f"unknown team {owner_id!r}")


async def smart_warnings(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    metric: MetricDefinition,
    metric_key: str,
    owner_kind: str,
    owner_id: str,
    period: Period,
    target: Decimal,
) -> list[dict[str, str]]:
    """Warn when a target is far from history (more than 2x, or under half, last period's actual)."""
    before = previous(period)
    needed = figures.components(metric, lambda k: metric if k == metric.key else None) or {
        metric_key
    }
    rows = await rows_for(
        session,
        tenant_id,
        [(owner_kind, owner_id, period.kind.value, before.start)],
        needed | {metric_key},
    )
    if not metric.stored:
        return []
    hit = rows.get((owner_kind, owner_id, metric_key, period.kind.value, before.start))
    if hit is None:
        return [{"code": "no_history", "detail": f"no actual for {before.label} to compare with"}]
    actual = figures.actual_of(
        metric.model_copy(update={"key": metric_key}), lambda _k: (hit[1], hit[2]), lambda _k: None
    )
    if actual is None or actual <= 0:
        return []
    ratio = target / actual
    if ratio > 2:
        return [
            {
                "code": "far_above_history",
                "detail": f"target {target} is {ratio:.2f}x the actual of {before.label} ({actual})",
            }
        ]
    if ratio < Decimal("0.5"):
        return [
            {
                "code": "far_below_history",
                "detail": f"target {target} is {ratio:.2f}x the actual of {before.label} ({actual})",
            }
        ]
    return []


async def save_goal(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    *,
    metric: str,
    owner_kind: str,
    owner_id: str,
    period: Period,
    target: Decimal,
    actor: str,
    reason: str | None,
    change: str,
    dimension: str = "",
    set_by_hand: bool = True,
    parent_id: uuid.UUID | None = None,
    split_rule: str | None = None,
    announce_now: bool = True,
) -> Saved:
    """Create or change a goal's target: a new version (who, when, why), audited, announced."""
    session = uow.session
    if not target.is_finite() or target <= 0:
        raise invalid("target", "a target must be a positive number")
    definition = await metric_definition(session, tenant_id, metric, dimension)
    await check_owner(session, tenant_id, owner_kind, owner_id)
    await ensure_open(session, tenant_id, period)
    goal = await session.scalar(
        select(Goal)
        .where(
            Goal.tenant_id == tenant_id,
            Goal.metric == metric,
            Goal.dimension == dimension,
            Goal.owner_kind == owner_kind,
            Goal.owner_id == owner_id,
            Goal.period_kind == period.kind.value,
            Goal.period_start == period.start,
        )
        .with_for_update()
    )
    created = goal is None
    before: dict[str, Any] | None = None
    if goal is None:
        goal = Goal(
            goal_id=uuid.uuid4(),
            tenant_id=tenant_id,
            metric=metric,
            dimension=dimension,
            owner_kind=owner_kind,
            owner_id=owner_id,
            period_kind=period.kind.value,
            period_start=period.start,
            period_end=period.end,
            target=target,
            set_by_hand=set_by_hand,
            parent_id=parent_id,
            split_rule=split_rule,
            version=1,
            updated_by=actor,
        )
        session.add(goal)
    else:
        before = {"target": str(goal.target), "version": goal.version}
        goal.target = target
        goal.set_by_hand = set_by_hand
        goal.version += 1
        goal.updated_by = actor
        goal.updated_at = func.now()  # type: ignore[assignment]
        if parent_id is not None:
            goal.parent_id = parent_id
        if split_rule is not None:
            goal.split_rule = split_rule
    session.add(
        GoalVersion(
            tenant_id=tenant_id,
            goal_id=goal.goal_id,
            version=goal.version,
            target=target,
            change=change,
            reason=reason,
            changed_by=actor,
        )
    )
    await session.flush()
    await audit.record(
        session,
        audit_log,
        tenant_id=tenant_id,
        actor=actor,
        action="goal.created" if created else "goal.changed",
        target_type="goal",
        # Owner first, as every audited person change: found (and pseudonymised) by the person.
        target_key=f"{owner_id}/{goal_metric_key(goal)}/{period.label}",
        before=before,
        after={
            "goal_id": str(goal.goal_id),
            "target": str(target),
            "version": goal.version,
            "change": change,
            "reason": reason,
        },
    )
    warnings = await smart_warnings(
        session, tenant_id, definition, goal_metric_key(goal), owner_kind, owner_id, period, target
    )
    if announce_now:
        await announce_goals(uow, tenant_id, [goal])
    return Saved(goal, created, warnings)


async def announce_goals(uow: UnitOfWork, tenant_id: uuid.UUID, goals: list[Goal]) -> None:
    """Re-announce goals whose target moved (their actual did not)."""
    if not goals:
        return
    session = uow.session
    _, fiscal_start = await tenant_calendar(session, tenant_id)
    from goals.catalog.service import tenant_catalog

    catalog: Catalog = await tenant_catalog(session, tenant_id)
    metrics: set[str] = set()
    for g in goals:
        d = catalog.get(goal_metric_key(g))
        if d is not None:
            metrics |= figures.components(d, catalog.get)
    pairs = [(g.owner_kind, g.owner_id, g.period_kind, g.period_start) for g in goals]
    rows = await rows_for(session, tenant_id, pairs, metrics)
    await announce(uow, tenant_id, rows, catalog, fiscal_start)


async def goal_history(
    session: AsyncSession, tenant_id: uuid.UUID, goal_id: uuid.UUID
) -> list[GoalVersion]:
    return list(
        await session.scalars(
            select(GoalVersion)
            .where(GoalVersion.tenant_id == tenant_id, GoalVersion.goal_id == goal_id)
            .order_by(GoalVersion.version)
        )
    )


def month_period(start: date) -> Period:
    from shared.periods import PeriodKind, period_of

    return period_of(PeriodKind.MONTH, start)
