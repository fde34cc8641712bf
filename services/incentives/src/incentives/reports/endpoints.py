"""For finance and for recognition: pay per team with accruals, the monthly champion and best
newcomer, long-term incentive eligibility and a profit-share split by contribution."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from incentives.models import Credit, PersonRole, PlanAssignment, Statement, org
from incentives.plan.maths import competition_ranks, to_cents
from incentives.statements.endpoints import statement_now
from shared.auth.access import principal, requires
from shared.auth.tokens import Principal
from shared.db.uow import tenant_session
from shared.http.problems import Problem, invalid_field
from shared.periods import PeriodKind, parse_period, period_of, previous
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["pay reports"])


async def members(
    session: Any, tenant_id: Any, team_id: str | None, start: Any, end: Any
) -> set[str]:
    if team_id is None:
        assigned = set(
            await session.scalars(
                select(PlanAssignment.person_id).where(PlanAssignment.tenant_id == tenant_id)
            )
        )
        # A plan assigned to a role ("role:<role>") reaches the people goals says have the role.
        roles = {a.removeprefix("role:") for a in assigned if a.startswith("role:")}
        by_role = set(
            await session.scalars(
                select(PersonRole.person_id).where(
                    PersonRole.tenant_id == tenant_id, PersonRole.role.in_(sorted(roles))
                )
            )
        )
        return {a for a in assigned if not a.startswith("role:")} | by_role
    t, m = org.teams.c, org.memberships.c
    teams = {team_id}
    while True:
        more = (
            set(
                await session.scalars(
                    select(t.team_id).where(
                        t.tenant_id == tenant_id, t.parent_team_id.in_(sorted(teams))
                    )
                )
            )
            - teams
        )
        if not more:
            break
        teams |= more
    return set(
        await session.scalars(
            select(m.person_id).where(
                m.tenant_id == tenant_id,
                m.team_id.in_(sorted(teams)),
                m.valid_from <= end,
                (m.valid_to.is_(None)) | (m.valid_to >= start),
            )
        )
    )


@router.get("/v1/payouts/summary")
async def summary(
    who: Annotated[Principal, Depends(requires("admin", "finance"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
    period: str,
    team_id: str | None = None,
) -> dict[str, Any]:
    """Pay per person of a team (or region, with its sub-teams) for a period: earned so far,
    paid, and the accrual (earned but not yet paid)."""
    return await payouts(rt, who, period, team_id)


async def payouts(rt: Runtime, who: Principal, period: str, team_id: str | None) -> dict[str, Any]:
    try:
        p = parse_period(period)
    except ValueError as exc:
        raise invalid_field("period", str(exc)) from exc
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        people = await members(session, who.tenant_id, team_id, p.start, p.end)
        stored = {
            s.person_id: s
            for s in await session.scalars(
                select(Statement).where(
                    Statement.tenant_id == who.tenant_id, Statement.period == p.label
                )
            )
        }
        rows, earned_total, paid_total = [], Decimal(0), Decimal(0)
        for person in sorted(people):
            try:
                _, st = await statement_now(session, who.tenant_id, person, p)
            except Problem:
                continue  # no plan in force
            kept = stored.get(person)
            paid = kept.total if kept is not None and kept.status == "paid" else Decimal(0)
            earned = (
                kept.total if kept is not None and kept.status in ("approved", "paid") else st.total
            )
            rows.append(
                {
                    "person_id": person,
                    "earned": str(earned),
                    "paid": str(paid),
                    "accrued": str(earned - paid),
                    "status": "open" if kept is None else kept.status,
                    "statement_id": None if kept is None else str(kept.statement_id),
                    "prepared_by": None if kept is None else kept.prepared_by,
                }
            )
            earned_total += earned
            paid_total += paid
    return {
        "period": p.label,
        "team_id": team_id,
        "people": rows,
        "earned": str(earned_total),
        "paid": str(paid_total),
        "accrued": str(earned_total - paid_total),
    }


async def collected(session: Any, tenant_id: Any, start: Any, end: Any) -> dict[str, Decimal]:
    rows = await session.execute(
        select(Credit.person_id, func.sum(Credit.base))
        .where(Credit.tenant_id == tenant_id, Credit.day >= start, Credit.day <= end)
        .group_by(Credit.person_id)
    )
    return {r[0]: r[1] for r in rows}


@router.get("/v1/recognition")
async def recognition(
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
    newcomer_days: Annotated[int, Query(ge=1, le=366)] = 90,
) -> dict[str, Any]:
    """The month's champion (most collected), its best newcomer (on a plan for less than
    `newcomer_days`), and the leaderboard (competition ranks): names and ranks, not pay."""
    p = parse_period(month)
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        values = await collected(session, who.tenant_id, p.start, p.end)
        joined = {
            r[0]: r[1]
            for r in await session.execute(
                select(PlanAssignment.person_id, func.min(PlanAssignment.valid_from))
                .where(PlanAssignment.tenant_id == who.tenant_id)
                .group_by(PlanAssignment.person_id)
            )
        }
    ranks = competition_ranks(values)
    board = sorted(
        ({"rank": ranks[k], "person_id": k, "collected": str(v)} for k, v in values.items()),
        key=lambda e: (e["rank"], e["person_id"]),
    )
    newcomers = {
        k: v
        for k, v in values.items()
        if k in joined and joined[k] > p.end - timedelta(days=newcomer_days)
    }
    champion = [e["person_id"] for e in board if e["rank"] == 1]
    best_new = max(newcomers.values(), default=None)
    return {
        "month": p.label,
        "champion": champion,
        "best_newcomer": sorted(k for k, v in newcomers.items() if v == best_new)
        if best_new is not None
        else [],
        "leaderboard": board,
    }


@router.get("/v1/lti/eligibility")
async def lti(
    who: Annotated[Principal, Depends(requires("admin", "finance", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
    year: Annotated[int, Query(ge=2000, le=2100)],
    share: Annotated[Decimal, Query(gt=0, le=1)] = Decimal("0.1"),
) -> dict[str, Any]:
    """Long-term incentives are tracked as eligibility, not paid: in the top 10 % (by collected
    revenue) both this year and the year before → vesting eligibility."""
    this = period_of(PeriodKind.YEAR, parse_period(str(year)).start)
    last = previous(this)
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        now, before = (
            await collected(session, who.tenant_id, this.start, this.end),
            await collected(session, who.tenant_id, last.start, last.end),
        )

    def top(values: dict[str, Decimal]) -> set[str]:
        if not values:
            return set()
        keep = max(1, int(len(values) * share))
        ranks = competition_ranks(values)
        return {k for k, r in ranks.items() if r <= keep}

    eligible = sorted(top(now) & top(before))
    return {
        "year": year,
        "share": str(share),
        "eligible": eligible,
        "top_this_year": sorted(top(now)),
        "top_last_year": sorted(top(before)),
    }


class ProfitShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100)
    pool: Decimal = Field(gt=0)


@router.post("/v1/lti/profit-share")
async def profit_share(
    body: ProfitShareIn,
    who: Annotated[Principal, Depends(requires("admin", "finance"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """A profit-share pool split by contribution (collected revenue of the year), to the cent;
    the remainder of rounding goes to the largest contributor (the shares add up to the pool)."""
    y = parse_period(str(body.year))
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        values = {
            k: v
            for k, v in (await collected(session, who.tenant_id, y.start, y.end)).items()
            if v > 0
        }
    total = sum(values.values(), Decimal(0))
    if total <= 0:
        raise invalid_field("year", "nobody collected anything that year")
    shares = {k: to_cents(body.pool * v / total) for k, v in values.items()}
    gap = body.pool - sum(shares.values(), Decimal(0))
    if gap:
        top = max(values, key=lambda k: (values[k], k))
        shares[top] += gap
    return {
        "year": body.year,
        "pool": str(body.pool),
        "shares": {k: str(v) for k, v in sorted(shares.items())},
    }
