"""Goals over REST: set targets, decompose them, propose and decide adjustments, close periods."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from goals.alerts.service import resolve_outlived
from goals.catalog.service import tenant_catalog
from goals.models import ClosedPeriod, Goal, LateActivity, Proposal, messaging
from goals.targets import decompose, service
from goals.targets.schemas import (
    DecisionIn,
    GoalFigureOut,
    GoalIn,
    GoalOut,
    PeriodOut,
    ProposalIn,
    ProposalOut,
    SplitIn,
    VersionOut,
)
from goals.totals import figures
from goals.totals.progress import goal_metric_key, people_dates, rows_for
from goals.totals.replay import rebuild
from goals.totals.store import tenant_calendar
from shared.auth.access import FORBIDDEN_PERSON, may_see_owner, principal, require_roles, requires
from shared.auth.tokens import Principal
from shared.db import audit
from shared.db.uow import tenant_session, unit_of_work
from shared.events.envelope import PeriodClosed, PeriodClosedPayload, new_event
from shared.http.problems import Problem
from shared.periods import Period, local_date, parse_period
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["goals"])
SETTERS = ("admin", "hr", "manager")


def parse_label(label: str, fiscal_start: int, field: str = "period") -> Period:
    try:
        return parse_period(label, fiscal_start)
    except ValueError as exc:
        raise service.invalid(field, str(exc)) from exc


def goal_out(
    goal: Goal, fiscal_start: int, warnings: list[dict[str, str]] | None = None
) -> GoalOut:
    period = decompose.goal_period(goal, fiscal_start)
    return GoalOut(
        goal_id=goal.goal_id,
        metric=goal.metric,
        dimension=goal.dimension,
        owner_kind=goal.owner_kind,
        owner_id=goal.owner_id,
        period=period.label,
        period_kind=goal.period_kind,
        period_start=goal.period_start,
        period_end=goal.period_end,
        target=goal.target,
        set_by_hand=goal.set_by_hand,
        parent_id=goal.parent_id,
        split_rule=goal.split_rule,
        version=goal.version,
        updated_by=goal.updated_by,
        warnings=warnings or [],  # type: ignore[arg-type]
    )


async def may_set(
    rt: Runtime, who: Principal, owner_kind: str, owner_id: str, period: Period
) -> None:
    require_roles(who, *SETTERS)
    if who.has("admin", "hr"):
        return
    if owner_kind == "company" or not await may_see_owner(
        rt, who, owner_kind, owner_id, period.start, period.end
    ):
        raise Problem(403, "Forbidden", "managers set the goals of their own teams and people")


async def goal_figures(
    session: AsyncSession, tenant_id: uuid.UUID, goals: list[Goal], now: datetime
) -> list[GoalFigureOut]:
    """Goals with actual, attainment and pace: a fixed number of queries for any number of goals."""
    if not goals:
        return []
    timezone, fiscal_start = await tenant_calendar(session, tenant_id)
    catalog = await tenant_catalog(session, tenant_id)
    metrics: set[str] = set()
    for g in goals:
        d = catalog.get(goal_metric_key(g))
        if d is not None:
            metrics |= figures.components(d, catalog.get)
    rows = await rows_for(
        session,
        tenant_id,
        [(g.owner_kind, g.owner_id, g.period_kind, g.period_start) for g in goals],
        metrics,
    )
    dates = await people_dates(
        session, tenant_id, [g.owner_id for g in goals if g.owner_kind == "person"]
    )
    kids: dict[uuid.UUID, list[Goal]] = {}
    for k in await session.scalars(
        select(Goal).where(
            Goal.tenant_id == tenant_id, Goal.parent_id.in_([g.goal_id for g in goals])
        )
    ):
        assert k.parent_id is not None
        kids.setdefault(k.parent_id, []).append(k)
    out = []
    for g in goals:
        definition = catalog.get(goal_metric_key(g))
        period = decompose.goal_period(g, fiscal_start)

        def row_of(metric: str, g: Goal = g) -> tuple[figures.Decimal, int] | None:
            hit = rows.get((g.owner_kind, g.owner_id, metric, g.period_kind, g.period_start))
            return None if hit is None else (hit[1], hit[2])

        actual = None if definition is None else figures.actual_of(definition, row_of, catalog.get)
        start, end = (
            dates.get(g.owner_id, (None, None)) if g.owner_kind == "person" else (None, None)
        )
        target = figures.effective_target(
            g.target, period, set_by_hand=g.set_by_hand, active_from=start, active_to=end
        )
        direction = "higher" if definition is None else definition.direction
        pace = figures.pace(actual, target.effective, period, now, timezone, direction)
        children = kids.get(g.goal_id)
        children_total = (
            None if not children else sum((c.target for c in children), figures.Decimal(0))
        )
        base = goal_out(g, fiscal_start).model_dump()
        out.append(
            GoalFigureOut(
                **base,
                actual=actual,
                effective_target=target.effective,
                active_days=target.active_days if g.owner_kind == "person" else None,
                attainment=figures.attainment(actual, target.effective, direction),
                elapsed=pace.elapsed,
                expected=pace.expected,
                projected_attainment=pace.projected_attainment,
                children_total=children_total,
                children_difference=None if children_total is None else children_total - g.target,
            )
        )
    return out


@router.post("/v1/goals", response_model=GoalOut)
async def put_goal(
    body: GoalIn,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> GoalOut:
    """Create a goal, or change its target (a new version with who, when and why). The answer
    carries SMART warnings, e.g. a target more than 2x last period's actual."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        _, fiscal_start = await tenant_calendar(uow.session, who.tenant_id)
        period = parse_label(body.period, fiscal_start)
        await may_set(rt, who, body.owner_kind, body.owner_id, period)
        saved = await service.save_goal(
            uow,
            who.tenant_id,
            metric=body.metric,
            owner_kind=body.owner_kind,
            owner_id=body.owner_id,
            period=period,
            target=body.target,
            actor=who.subject,
            reason=body.reason,
            change="set",
            dimension=body.dimension,
            set_by_hand=body.set_by_hand,
        )
        new_variant = bool(body.dimension) and saved.created
        if new_variant:
            await rebuild(uow, who.tenant_id)
        return goal_out(saved.goal, fiscal_start, saved.warnings)


@router.get("/v1/goals", response_model=list[GoalFigureOut])
async def list_goals(
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
    owner_kind: Annotated[str, Query(pattern="^(company|team|person)$")],
    period: Annotated[str, Query(examples=["2026-Q1"])],
    owner_id: Annotated[str, Query(min_length=1)] = "company",
    metric: str | None = None,
) -> list[GoalFigureOut]:
    """An owner's goals for a period with actual, attainment and pace."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        _, fiscal_start = await tenant_calendar(session, who.tenant_id)
        p = parse_label(period, fiscal_start)
        if not await may_see_owner(rt, who, owner_kind, owner_id, p.start, p.end):
            raise Problem(403, "Forbidden", FORBIDDEN_PERSON)
        query = select(Goal).where(
            Goal.tenant_id == who.tenant_id,
            Goal.owner_kind == owner_kind,
            Goal.owner_id == owner_id,
            Goal.period_kind == p.kind.value,
            Goal.period_start == p.start,
        )
        if metric:
            query = query.where(Goal.metric == metric)
        goals = list(await session.scalars(query.order_by(Goal.metric, Goal.dimension)))
        return await goal_figures(session, who.tenant_id, goals, datetime.now(UTC))


async def visible_goal(
    rt: Runtime, who: Principal, session: AsyncSession, goal_id: uuid.UUID
) -> Goal:
    goal = await decompose.get_goal(session, who.tenant_id, goal_id)
    if not await may_see_owner(
        rt, who, goal.owner_kind, goal.owner_id, goal.period_start, goal.period_end
    ):
        raise Problem(404, "Not found", f"no goal {goal_id}")
    return goal


@router.get("/v1/goals/{goal_id}", response_model=GoalFigureOut)
async def get_goal(
    goal_id: uuid.UUID,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> GoalFigureOut:
    """One goal with its actual, attainment, pace, and whether its children add up."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        goal = await visible_goal(rt, who, session, goal_id)
        (out,) = await goal_figures(session, who.tenant_id, [goal], datetime.now(UTC))
        return out


@router.get("/v1/goals/{goal_id}/children", response_model=list[GoalFigureOut])
async def get_children(
    goal_id: uuid.UUID,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[GoalFigureOut]:
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        goal = await visible_goal(rt, who, session, goal_id)
        kids = list(
            await session.scalars(
                select(Goal)
                .where(Goal.tenant_id == who.tenant_id, Goal.parent_id == goal.goal_id)
                .order_by(Goal.period_start, Goal.owner_id, Goal.dimension)
            )
        )
        return await goal_figures(session, who.tenant_id, kids, datetime.now(UTC))


@router.get("/v1/goals/{goal_id}/history", response_model=list[VersionOut])
async def get_history(
    goal_id: uuid.UUID,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[VersionOut]:
    """Every target the goal has had: who changed it, when, and why."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        await visible_goal(rt, who, session, goal_id)
        versions = await service.goal_history(session, who.tenant_id, goal_id)
        return [VersionOut.model_validate(v, from_attributes=True) for v in versions]


@router.post("/v1/goals/{goal_id}/split", response_model=list[GoalOut])
async def split_goal(
    goal_id: uuid.UUID,
    body: SplitIn,
    who: Annotated[Principal, Depends(requires(*SETTERS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[GoalOut]:
    """Decompose a goal along the org (teams, people), time (halves, quarters, months, weeks) or a
    dimension (product line, region, customer type): even, by weights, by last year's share, or
    with explicit targets that must add up to the parent."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        _, fiscal_start = await tenant_calendar(uow.session, who.tenant_id)
        goal = await decompose.get_goal(uow.session, who.tenant_id, goal_id)
        await may_set(
            rt, who, goal.owner_kind, goal.owner_id, decompose.goal_period(goal, fiscal_start)
        )
        saved = await decompose.split_goal(
            uow,
            who.tenant_id,
            goal_id,
            who.subject,
            along=body.along,
            rule=body.rule,
            into=body.into,
            dimension=body.dimension,
            values=body.values,
            owners=body.owners,
            weights=body.weights,
            targets=body.targets,
            reason=body.reason,
        )
        if body.along == "dimension" and any(s.created for s in saved):
            await rebuild(uow, who.tenant_id)  # the new dimension variants count history too
        return [goal_out(s.goal, fiscal_start, s.warnings) for s in saved]


@router.post("/v1/goals/{goal_id}/proposals", response_model=ProposalOut, status_code=201)
async def post_proposal(
    goal_id: uuid.UUID,
    body: ProposalIn,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> ProposalOut:
    """Bottom-up: the owner (or anyone who sees the goal) proposes a different target."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        await visible_goal(rt, who, uow.session, goal_id)
        proposal = await decompose.propose(
            uow, who.tenant_id, goal_id, who.subject, body.target, body.reason
        )
        return ProposalOut.model_validate(proposal, from_attributes=True)


@router.get("/v1/proposals", response_model=list[ProposalOut])
async def list_proposals(
    who: Annotated[Principal, Depends(requires(*SETTERS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
    status: Annotated[str, Query(pattern="^(pending|approved|rejected)$")] = "pending",
) -> list[ProposalOut]:
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = await session.scalars(
            select(Proposal)
            .where(Proposal.tenant_id == who.tenant_id, Proposal.status == status)
            .order_by(Proposal.proposed_at)
        )
        return [ProposalOut.model_validate(p, from_attributes=True) for p in rows]


async def _decide(
    proposal_id: uuid.UUID, body: DecisionIn, who: Principal, rt: Runtime, approve: bool
) -> ProposalOut:
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        proposal = await uow.session.scalar(
            select(Proposal).where(
                Proposal.tenant_id == who.tenant_id, Proposal.proposal_id == proposal_id
            )
        )
        if proposal is None:
            raise Problem(404, "Not found", f"no proposal {proposal_id}")
        goal = await decompose.get_goal(uow.session, who.tenant_id, proposal.goal_id)
        _, fiscal_start = await tenant_calendar(uow.session, who.tenant_id)
        await may_set(
            rt, who, goal.owner_kind, goal.owner_id, decompose.goal_period(goal, fiscal_start)
        )
        decided = await decompose.decide(
            uow,
            who.tenant_id,
            proposal_id,
            who.subject,
            approve=approve,
            reason=body.reason,
            offset_goal_id=body.offset_goal_id,
        )
        await audit.record(
            uow.session,
            service.audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action=f"proposal.{decided.status}",
            target_type="proposal",
            target_key=f"{goal.owner_id}/{proposal_id}",
            before={"status": "pending"},
            after={"status": decided.status, "reason": body.reason},
        )
        return ProposalOut.model_validate(decided, from_attributes=True)


@router.post("/v1/proposals/{proposal_id}/approve", response_model=ProposalOut)
async def approve(
    proposal_id: uuid.UUID,
    body: DecisionIn,
    who: Annotated[Principal, Depends(requires(*SETTERS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> ProposalOut:
    """Approve: the goal takes the proposed target; parents keep adding up."""
    return await _decide(proposal_id, body, who, rt, True)


@router.post("/v1/proposals/{proposal_id}/reject", response_model=ProposalOut)
async def reject(
    proposal_id: uuid.UUID,
    body: DecisionIn,
    who: Annotated[Principal, Depends(requires(*SETTERS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> ProposalOut:
    return await _decide(proposal_id, body, who, rt, False)


@router.post("/v1/periods/{label}/close", response_model=PeriodOut)
async def close_period(
    label: str,
    who: Annotated[Principal, Depends(requires("admin", "finance", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> PeriodOut:
    """Close a period: its targets and totals freeze; later events for it are recorded as late."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        timezone, fiscal_start = await tenant_calendar(uow.session, who.tenant_id)
        p = parse_label(label, fiscal_start)
        await uow.session.execute(
            pg_insert(ClosedPeriod)
            .values(
                tenant_id=who.tenant_id,
                period_kind=p.kind.value,
                period_start=p.start,
                period_end=p.end,
                closed_by=who.subject,
            )
            .on_conflict_do_nothing()
        )
        uow.emit(
            new_event(
                PeriodClosed,
                tenant_id=who.tenant_id,
                key=f"{who.tenant_id}:period:{p.label}",
                occurred_at=datetime.now(UTC),
                payload=PeriodClosedPayload(
                    period=p.label,
                    period_kind=p.kind.value,  # type: ignore[arg-type]
                    period_start=p.start,
                    period_end=p.end,
                ),
            )
        )
        await audit.record(
            uow.session,
            service.audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="period.closed",
            target_type="period",
            target_key=p.label,
            before=None,
            after={"kind": p.kind.value, "start": p.start.isoformat(), "end": p.end.isoformat()},
        )
        # Alerts about the period (or a period inside it) resolve now, as `period_closed`.
        await resolve_outlived(
            uow, who.tenant_id, local_date(datetime.now(UTC), timezone), fiscal_start
        )
        return await period_out(uow.session, who.tenant_id, p)


async def period_out(session: AsyncSession, tenant_id: uuid.UUID, p: Period) -> PeriodOut:
    row = await session.scalar(
        select(ClosedPeriod).where(
            ClosedPeriod.tenant_id == tenant_id,
            ClosedPeriod.period_kind == p.kind.value,
            ClosedPeriod.period_start == p.start,
        )
    )
    return PeriodOut(
        period=p.label,
        kind=p.kind.value,
        start=p.start,
        end=p.end,
        closed=row is not None,
        closed_by=None if row is None else row.closed_by,
        closed_at=None if row is None else row.closed_at,
    )


@router.get("/v1/periods/{label}", response_model=PeriodOut)
async def get_period(
    label: str,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> PeriodOut:
    """A period of the tenant's calendar (fiscal year start and time zone) and whether it is closed."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        _, fiscal_start = await tenant_calendar(session, who.tenant_id)
        return await period_out(session, who.tenant_id, parse_label(label, fiscal_start))


class LateOut(BaseModel):
    event_id: uuid.UUID
    activity_id: str
    recorded_at: datetime


@router.get("/v1/periods/{label}/late", response_model=list[LateOut])
async def late_activities(
    label: str,
    who: Annotated[Principal, Depends(requires("admin", "finance", "hr", "manager"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[LateOut]:
    """Events (and corrections) that arrived for the period after it closed: recorded here, not
    added to its frozen totals."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        _, fiscal_start = await tenant_calendar(session, who.tenant_id)
        p = parse_label(label, fiscal_start)
        rows = await session.scalars(
            select(LateActivity)
            .where(
                LateActivity.tenant_id == who.tenant_id,
                LateActivity.period_kind == p.kind.value,
                LateActivity.period_start == p.start,
            )
            .order_by(LateActivity.recorded_at, LateActivity.activity_id)
        )
        return [LateOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/v1/goals/{goal_id}/pace")
async def get_pace(
    goal_id: uuid.UUID,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, object]:
    """The pace view: for each day of the period so far, the actual to date against the straight
    line to the target (what early warnings judge)."""
    from datetime import timedelta
    from decimal import Decimal

    from goals.totals.explain import explain
    from shared.periods import local_date

    async with tenant_session(rt.sessions, who.tenant_id) as session:
        goal = await visible_goal(rt, who, session, goal_id)
        timezone, fiscal_start = await tenant_calendar(session, who.tenant_id)
        catalog = await tenant_catalog(session, who.tenant_id)
        definition = catalog.get(goal_metric_key(goal))
        if definition is None or not definition.additive:
            raise service.invalid("metric", "a pace line needs an additive metric (count or sum)")
        period = decompose.goal_period(goal, fiscal_start)
        (figure,) = await goal_figures(session, who.tenant_id, [goal], datetime.now(UTC))
        why = await explain(
            session, who.tenant_id, goal.owner_kind, goal.owner_id, period, goal_metric_key(goal)
        )
    per_day: dict[object, Decimal] = {}
    for line in why.lines if why else []:
        day = local_date(datetime.fromisoformat(line.occurred_at), timezone)
        per_day[day] = per_day.get(day, Decimal(0)) + (line.value or Decimal(0))
    today = min(local_date(datetime.now(UTC), timezone), period.end)
    points = []
    running = Decimal(0)
    day = period.start
    while day <= today:
        running += per_day.get(day, Decimal(0))
        elapsed = Decimal((day - period.start).days + 1) / period.days
        points.append(
            {
                "date": day.isoformat(),
                "actual": str(running),
                "expected": str(figure.effective_target * elapsed),
            }
        )
        day += timedelta(days=1)
    return {
        "goal_id": str(goal.goal_id),
        "period": period.label,
        "target": str(figure.effective_target),
        "actual": None if figure.actual is None else str(figure.actual),
        "elapsed": str(figure.elapsed),
        "projected_attainment": None
        if figure.projected_attainment is None
        else str(figure.projected_attainment),
        "points": points,
    }
