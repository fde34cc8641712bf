"""GraphQL reads of pay: a statement (my pay now, line by line with its explanation) and what-if."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON
from strawberry.types import Info

from incentives.models import Statement
from incentives.statements import maths
from incentives.statements.endpoints import statement_json, statement_now, stored_json
from shared.auth.access import may_see_owner
from shared.db.uow import tenant_session
from shared.graphql import Context
from shared.http.problems import Problem
from shared.periods import Period, parse_period


async def _allowed(info: Info[Context, None], person_id: str, period: str) -> Period:
    try:
        p = parse_period(period)
    except ValueError as exc:
        raise Problem(422, "Invalid request", f"period: {exc}") from exc
    who = info.context.principal
    if not await may_see_owner(info.context.runtime, who, "person", person_id, p.start, p.end):
        raise Problem(403, "Forbidden", "you may only see your own pay, or your teams'")
    return p


@strawberry.type
class PayQuery:
    @strawberry.field(description="A person's statement for a period: lines, explanations, total")
    async def statement(
        self, info: Info[Context, None], person_id: str, period: str
    ) -> JSON | None:
        p = await _allowed(info, person_id, period)
        who = info.context.principal
        async with tenant_session(info.context.runtime.sessions, who.tenant_id) as session:
            kept = await session.scalar(
                select(Statement)
                .where(
                    Statement.tenant_id == who.tenant_id,
                    Statement.person_id == person_id,
                    Statement.period == p.label,
                )
                .order_by(Statement.prepared_at.desc())
                .limit(1)
            )
            if kept is not None:
                return stored_json(kept)
            try:
                plan, st = await statement_now(session, who.tenant_id, person_id, p)
            except Problem as exc:
                if exc.status == 404:
                    return None  # no plan in force: nothing to pay
                raise
            return statement_json(person_id, p, plan, st, "open")

    @strawberry.field(description="What the real plan would pay with one more amount collected")
    async def what_if(
        self,
        info: Info[Context, None],
        person_id: str,
        period: str,
        amount: Decimal,
        segment: str | None = None,
    ) -> JSON | None:
        p = await _allowed(info, person_id, period)
        who = info.context.principal
        extra = [maths.Credit("what-if-1", "payment_received", amount, segment)]
        async with tenant_session(info.context.runtime.sessions, who.tenant_id) as session:
            try:
                plan, now = await statement_now(session, who.tenant_id, person_id, p)
            except Problem as exc:
                if exc.status == 404:
                    return None
                raise
            _, then = await statement_now(session, who.tenant_id, person_id, p, extra)
        return {
            "now": str(now.total),
            "what_if": str(then.total),
            "difference": str(then.total - now.total),
            "plan": plan.key,
        }


@strawberry.type
class PayoutsQuery:
    @strawberry.field(description="A team's (or the company's) pay for a period, with accruals")
    async def team_payouts(
        self, info: Info[Context, None], period: str, team_id: str | None = None
    ) -> JSON:
        from incentives.reports.endpoints import payouts

        who = info.context.principal
        if not who.has("admin", "finance"):
            raise Problem(403, "Forbidden", "team payouts are for finance")
        return await payouts(info.context.runtime, who, period, team_id)
