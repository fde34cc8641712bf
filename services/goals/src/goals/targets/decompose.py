"""Top-down decomposition along the org, time or a dimension, and bottom-up proposals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from goals.catalog.definitions import DIMENSIONS, MetricDefinition
from goals.catalog.service import definitions
from goals.models import Goal, Proposal, org
from goals.targets import split
from goals.targets.service import Saved, invalid, save_goal
from goals.totals.progress import metric_key, rows_for
from goals.totals.store import tenant_calendar
from shared.db.uow import UnitOfWork
from shared.http.problems import Problem
from shared.periods import Period, PeriodKind, subperiods, year_before

Along = Literal["org", "time", "dimension"]
Rule = Literal["even", "weights", "history"]


@dataclass(frozen=True)
class Child:
    key: str  # how the request names it: a team / person id, a period label, a dimension value
    owner_kind: str
    owner_id: str
    period: Period
    dimension: str
    weight_days: int  # for weeks sticking out of the parent: the days inside it


def goal_period(goal: Goal, fiscal_start: int) -> Period:
    kind = PeriodKind(goal.period_kind)
    fiscal = fiscal_start if kind in (PeriodKind.YEAR, PeriodKind.HALF, PeriodKind.QUARTER) else 1
    return Period(kind, goal.period_start, goal.period_end, fiscal)


async def get_goal(session: AsyncSession, tenant_id: uuid.UUID, goal_id: uuid.UUID) -> Goal:
    goal = await session.scalar(
        select(Goal).where(Goal.tenant_id == tenant_id, Goal.goal_id == goal_id)
    )
    if goal is None:
        raise Problem(404, "Not found", f"no goal {goal_id}")
    return goal


async def org_children(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    goal: Goal,
    period: Period,
    owners: list[str] | None,
) -> list[tuple[str, str]]:
    t, m = org.teams.c, org.memberships.c
    if goal.owner_kind == "person":
        raise invalid("along", "a person's goal cannot be split along the org")
    if goal.owner_kind == "company":
        parent_filter = t.parent_team_id.is_(None)
    else:
        parent_filter = t.parent_team_id == goal.owner_id
    teams = [
        r[0]
        for r in await session.execute(
            select(t.team_id).where(t.tenant_id == tenant_id, parent_filter).order_by(t.team_id)
        )
    ]
    people: list[str] = []
    if goal.owner_kind == "team":
        people = [
            r[0]
            for r in await session.execute(
                select(m.person_id)
                .where(
                    m.tenant_id == tenant_id,
                    m.team_id == goal.owner_id,
                    m.valid_from <= period.end,
                    (m.valid_to.is_(None)) | (m.valid_to >= period.start),
                )
                .distinct()
                .order_by(m.person_id)
            )
        ]
    available = [("team", x) for x in teams] + [("person", x) for x in people]
    if owners is None:
        # Sub-teams when there are any, otherwise the team's members over the period.
        chosen = [c for c in available if c[0] == "team"] or available
        if not chosen:
            raise invalid("owners", "no teams or members to split into")
        return chosen
    by_id = {c[1]: c for c in available}
    unknown = [o for o in owners if o not in by_id]
    if unknown:
        raise invalid(
            "owners", f"not a sub-team or member of {goal.owner_id} in {period.label}: {unknown}"
        )
    return [by_id[o] for o in owners]


async def children_of(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    goal: Goal,
    period: Period,
    along: Along,
    *,
    into: str | None,
    dimension: str | None,
    values: list[str] | None,
    owners: list[str] | None,
) -> list[Child]:
    if along == "org":
        pairs = await org_children(session, tenant_id, goal, period, owners)
        return [Child(oid, kind, oid, period, goal.dimension, period.days) for kind, oid in pairs]
    if along == "time":
        if into is None:
            raise invalid("into", "time splits need into: half, quarter, month or week")
        try:
            parts = subperiods(period, PeriodKind(into))
        except ValueError as exc:
            raise invalid("into", str(exc)) from exc
        return [
            Child(
                p.label,
                goal.owner_kind,
                goal.owner_id,
                p,
                goal.dimension,
                p.overlap_days(period.start, period.end),
            )
            for p in parts
        ]
    if goal.dimension:
        raise invalid("dimension", f"this goal is already for {goal.dimension}")
    if dimension not in DIMENSIONS:
        raise invalid("dimension", f"one of {sorted(DIMENSIONS)}")
    if not values or len(set(values)) != len(values):
        raise invalid("values", "give the distinct dimension values to split into")
    return [
        Child(v, goal.owner_kind, goal.owner_id, period, f"{dimension}={v}", period.days)
        for v in values
    ]


async def history_weights(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    goal: Goal,
    definition: MetricDefinition,
    children: list[Child],
) -> list[Decimal]:
    """Each child's actual in the same period a year earlier."""
    if not definition.stored:
        raise invalid("rule", "history shares need a stored metric (not a ratio)")
    earlier = {c.key: year_before(c.period) for c in children}
    keys = {c.key: metric_key(goal.metric, c.dimension) for c in children}
    rows = await rows_for(
        session,
        tenant_id,
        [
            (c.owner_kind, c.owner_id, earlier[c.key].kind.value, earlier[c.key].start)
            for c in children
        ],
        set(keys.values()),
    )
    weights = []
    for c in children:
        p = earlier[c.key]
        hit = rows.get((c.owner_kind, c.owner_id, keys[c.key], p.kind.value, p.start))
        weights.append(Decimal(0) if hit is None else max(hit[1], Decimal(0)))
    if sum(weights, Decimal(0)) <= 0:
        raise invalid("rule", "no history to split by: the children had no actual a year earlier")
    empty = [c.key for c, w in zip(children, weights, strict=True) if w <= 0]
    if empty:
        # Their share would be a zero target, which no goal may have.
        raise invalid(
            "rule", f"no actual a year earlier for {empty}: split by weights or give targets"
        )
    return weights


async def split_goal(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    goal_id: uuid.UUID,
    actor: str,
    *,
    along: Along,
    rule: Rule | None,
    into: str | None = None,
    dimension: str | None = None,
    values: list[str] | None = None,
    owners: list[str] | None = None,
    weights: dict[str, Decimal] | None = None,
    targets: dict[str, Decimal] | None = None,
    reason: str | None = None,
) -> list[Saved]:
    """Create or replace the children of a goal. Explicit targets must add up to the parent (for
    additive metrics); otherwise the rule computes shares that always do."""
    session = uow.session
    goal = await get_goal(session, tenant_id, goal_id)
    _, fiscal_start = await tenant_calendar(session, tenant_id)
    period = goal_period(goal, fiscal_start)
    definition = (await definitions(session, tenant_id))[goal.metric]
    children = await children_of(
        session,
        tenant_id,
        goal,
        period,
        along,
        into=into,
        dimension=dimension,
        values=values,
        owners=owners
        if owners is not None
        else (list(targets) if targets and along == "org" else None),
    )
    names = [c.key for c in children]
    if targets is not None:
        missing = [n for n in names if n not in targets]
        extra = [k for k in targets if k not in names]
        if missing or extra:
            raise invalid(
                "targets", f"give a target for each of {names} (missing {missing}, unknown {extra})"
            )
        amounts = [targets[n] for n in names]
        if definition.additive:
            gap = split.difference(goal.target, amounts)
            if gap != 0:
                raise Problem(
                    422,
                    "Children do not add up",
                    f"the children add up to {sum(amounts, Decimal(0))}, the parent is {goal.target}: "
                    f"{'short by' if gap > 0 else 'over by'} {abs(gap)}",
                    kind="decomposition-mismatch",
                    errors=[{"field": "targets", "message": f"off by {-gap}"}],
                    parent=str(goal.target),
                    children_total=str(sum(amounts, Decimal(0))),
                    difference=str(-gap),
                )
        used_rule = "explicit"
    else:
        used_rule = rule or "even"
        if not definition.additive:
            # A rate or an average is the same target for every part.
            amounts = [goal.target for _ in children]
        else:
            if used_rule == "even":
                w = [
                    Decimal(c.weight_days)
                    if along == "time" and c.period.kind is PeriodKind.WEEK
                    else Decimal(1)
                    for c in children
                ]
            elif used_rule == "weights":
                if not weights:
                    raise invalid("weights", "rule weights needs weights per child")
                unknown = [k for k in weights if k not in names]
                if unknown:
                    raise invalid("weights", f"unknown children {unknown}: expected {names}")
                w = [Decimal(weights.get(n, 0)) for n in names]
            else:
                w = await history_weights(session, tenant_id, goal, definition, children)
            try:
                amounts = split.allocate(goal.target, w)
            except split.SplitError as exc:
                raise invalid(exc.field, str(exc)) from exc
    saved = []
    for child, amount in zip(children, amounts, strict=True):
        saved.append(
            await save_goal(
                uow,
                tenant_id,
                metric=goal.metric,
                dimension=child.dimension,
                owner_kind=child.owner_kind,
                owner_id=child.owner_id,
                period=child.period,
                target=amount,
                actor=actor,
                reason=reason,
                change=f"split:{along}:{used_rule}",
                set_by_hand=False,
                parent_id=goal.goal_id,
                split_rule=f"{along}:{used_rule}",
            )
        )
    return saved


async def children_check(session: AsyncSession, tenant_id: uuid.UUID, goal: Goal) -> dict[str, Any]:
    kids = list(
        await session.scalars(
            select(Goal).where(Goal.tenant_id == tenant_id, Goal.parent_id == goal.goal_id)
        )
    )
    total = sum((k.target for k in kids), Decimal(0))
    return {"children": len(kids), "children_total": total, "difference": total - goal.target}


# -- bottom-up ----------------------------------------------------------------------------------


async def propose(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    goal_id: uuid.UUID,
    actor: str,
    target: Decimal,
    reason: str,
) -> Proposal:
    goal = await get_goal(uow.session, tenant_id, goal_id)
    if not target.is_finite() or target <= 0:
        raise invalid("target", "a target must be a positive number")
    proposal = Proposal(
        proposal_id=uuid.uuid4(),
        tenant_id=tenant_id,
        goal_id=goal.goal_id,
        proposed_target=target,
        reason=reason,
        proposed_by=actor,
        status="pending",
    )
    uow.session.add(proposal)
    await uow.session.flush()
    return proposal


async def decide(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    proposal_id: uuid.UUID,
    actor: str,
    *,
    approve: bool,
    reason: str | None,
    offset_goal_id: uuid.UUID | None = None,
) -> Proposal:
    """Approve (the target changes; the parent keeps adding up) or reject a proposal.

    On approval of a goal with a parent (additive metric), either a sibling named by
    ``offset_goal_id`` absorbs the difference, or the parents roll up by it."""
    session = uow.session
    proposal = await session.scalar(
        select(Proposal)
        .where(Proposal.tenant_id == tenant_id, Proposal.proposal_id == proposal_id)
        .with_for_update()
    )
    if proposal is None:
        raise Problem(404, "Not found", f"no proposal {proposal_id}")
    if proposal.status != "pending":
        raise Problem(409, "Already decided", f"the proposal is {proposal.status}", kind="conflict")
    if proposal.proposed_by == actor:
        raise Problem(403, "Forbidden", "a proposal is decided by someone other than its author")
    proposal.status = "approved" if approve else "rejected"
    proposal.decided_by = actor
    proposal.decided_at = datetime.now(UTC)
    proposal.decision_reason = reason
    if approve:
        goal = await get_goal(session, tenant_id, proposal.goal_id)
        _, fiscal_start = await tenant_calendar(session, tenant_id)
        definition = (await definitions(session, tenant_id))[goal.metric]
        delta = proposal.proposed_target - goal.target
        why = f"proposal {proposal.proposal_id}: {proposal.reason}"
        await _retarget(uow, tenant_id, goal, proposal.proposed_target, actor, why, fiscal_start)
        if goal.parent_id is not None and definition.additive and delta != 0:
            if offset_goal_id is not None:
                sibling = await get_goal(session, tenant_id, offset_goal_id)
                if sibling.parent_id != goal.parent_id or sibling.goal_id == goal.goal_id:
                    raise invalid("offset_goal_id", "must be a sibling of the proposal's goal")
                await _retarget(
                    uow, tenant_id, sibling, sibling.target - delta, actor, why, fiscal_start
                )
            else:
                parent_id: uuid.UUID | None = goal.parent_id
                while parent_id is not None:
                    parent = await get_goal(session, tenant_id, parent_id)
                    await _retarget(
                        uow, tenant_id, parent, parent.target + delta, actor, why, fiscal_start
                    )
                    parent_id = parent.parent_id
    await session.flush()
    return proposal


async def _retarget(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    goal: Goal,
    target: Decimal,
    actor: str,
    reason: str,
    fiscal_start: int,
) -> None:
    await save_goal(
        uow,
        tenant_id,
        metric=goal.metric,
        dimension=goal.dimension,
        owner_kind=goal.owner_kind,
        owner_id=goal.owner_id,
        period=goal_period(goal, fiscal_start),
        target=target,
        actor=actor,
        reason=reason,
        change="proposal_approved",
        set_by_hand=goal.set_by_hand,
    )
