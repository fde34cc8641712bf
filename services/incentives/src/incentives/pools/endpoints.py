"""The team bonus pool (seed 004): the team (region) with the best attainment of a goal gets a
pool; its manager allocates it (the allocation must add up); someone else approves it; each share
becomes a line of that person's statement."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from incentives.models import TeamAttainment, TeamPool, audit_log, messaging, org
from shared.auth.access import requires
from shared.auth.tokens import Principal
from shared.db import audit
from shared.db.uow import unit_of_work
from shared.http.problems import Problem, invalid_field
from shared.periods import parse_period
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["pay"])


class PoolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str
    metric: str = "collected_revenue"
    amount: Decimal = Field(gt=0, examples=["100000"])
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)


def pool_out(p: TeamPool) -> dict[str, Any]:
    return {
        "pool_id": str(p.pool_id),
        "period": p.period,
        "team_id": p.team_id,
        "metric": p.metric,
        "amount": str(p.amount),
        "allocation": p.allocation,
        "status": p.status,
        "allocated_by": p.allocated_by,
        "approved_by": p.approved_by,
    }


@router.post("/v1/team-pools", status_code=201)
async def create_pool(
    body: PoolIn,
    who: Annotated[Principal, Depends(requires("admin", "finance"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """Give the pool to the top-level team (region) with the best attainment of the metric."""
    try:
        period = parse_period(body.period, body.fiscal_year_start_month)
    except ValueError as exc:
        raise invalid_field("period", str(exc)) from exc
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        t = org.teams.c
        regions = set(
            await uow.session.scalars(
                select(t.team_id).where(t.tenant_id == who.tenant_id, t.parent_team_id.is_(None))
            )
        )
        rows = list(
            await uow.session.scalars(
                select(TeamAttainment).where(
                    TeamAttainment.tenant_id == who.tenant_id,
                    TeamAttainment.metric == body.metric,
                    TeamAttainment.period_kind == period.kind.value,
                    TeamAttainment.period_start == period.start,
                )
            )
        )
        candidates = [r for r in rows if r.team_id in regions] or rows
        if not candidates:
            raise invalid_field("metric", f"no team has a {body.metric} goal in {period.label}")
        best = max(candidates, key=lambda r: (r.attainment, r.team_id))
        pool = TeamPool(
            pool_id=uuid.uuid4(),
            tenant_id=who.tenant_id,
            period=period.label,
            team_id=best.team_id,
            metric=body.metric,
            amount=body.amount,
            allocation={},
            status="open",
            created_by=who.subject,
        )
        uow.session.add(pool)
        await uow.session.flush()
        return pool_out(pool) | {"attainment": str(best.attainment)}


class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allocation: dict[str, Decimal] = Field(min_length=1, description="person → share of the pool")


@router.put("/v1/team-pools/{pool_id}/allocation")
async def allocate(
    pool_id: uuid.UUID,
    body: AllocationIn,
    who: Annotated[Principal, Depends(requires("manager", "admin"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """The winning team's manager allocates the pool: the shares must add up to it exactly."""
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        pool = await uow.session.get(TeamPool, pool_id, with_for_update=True)
        if pool is None or pool.tenant_id != who.tenant_id:
            raise Problem(404, "Not found", "no such pool")
        if pool.status == "approved":
            raise Problem(
                409, "Approved", "an approved allocation does not change", kind="conflict"
            )
        t = org.teams.c
        manager = await uow.session.scalar(
            select(t.manager_id).where(t.tenant_id == who.tenant_id, t.team_id == pool.team_id)
        )
        if who.subject != manager and not who.has("admin"):
            raise Problem(403, "Forbidden", f"the pool is allocated by {pool.team_id}'s manager")
        if any(v < 0 for v in body.allocation.values()):
            raise invalid_field("allocation", "shares are not negative")
        total = sum(body.allocation.values(), Decimal(0))
        if total != pool.amount:
            gap = pool.amount - total
            raise Problem(
                422,
                "Allocation does not add up",
                f"the shares add up to {total}, the pool is {pool.amount}: {'short by' if gap > 0 else 'over by'} {abs(gap)}",
                kind="validation-error",
                errors=[{"field": "allocation", "message": f"off by {-gap}"}],
                difference=str(-gap),
            )
        pool.allocation = {k: str(v) for k, v in body.allocation.items()}
        pool.status = "allocated"
        pool.allocated_by = who.subject
        return pool_out(pool)


@router.post("/v1/team-pools/{pool_id}/approve")
async def approve_pool(
    pool_id: uuid.UUID,
    who: Annotated[Principal, Depends(requires("admin", "finance"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """Approval by someone other than who allocated; each share becomes a statement line."""
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        pool = await uow.session.get(TeamPool, pool_id, with_for_update=True)
        if pool is None or pool.tenant_id != who.tenant_id:
            raise Problem(404, "Not found", "no such pool")
        if pool.status != "allocated":
            raise Problem(409, "Not allocated", f"the pool is {pool.status}", kind="conflict")
        if pool.allocated_by == who.subject:
            raise Problem(
                403, "Forbidden", "an allocation is approved by someone other than who made it"
            )
        pool.status = "approved"
        pool.approved_by = who.subject
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="team_pool.approved",
            target_type="team_pool",
            target_key=f"{pool.team_id}/{pool.period}",
            before=None,
            after=pool.allocation,
        )
        return pool_out(pool)
