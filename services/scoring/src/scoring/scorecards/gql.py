"""GraphQL reads of scorecards: a person's scorecard, team rankings and grade distribution,
and the caller's reviews to do."""

from __future__ import annotations

from datetime import date

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON
from strawberry.types import Info

from scoring.models import Scorecard
from scoring.scorecards.endpoints import card_out, ranking, reviews_to_do_rows
from shared.auth.access import may_see_owner
from shared.db.uow import tenant_session
from shared.graphql import Context
from shared.http.problems import Problem
from shared.periods import parse_period


@strawberry.type
class ScorecardsQuery:
    @strawberry.field(description="A person's scorecard for a period: items, why, total, grade")
    async def scorecard(
        self, info: Info[Context, None], person_id: str, period: str
    ) -> JSON | None:
        who = info.context.principal
        try:
            p = parse_period(period)
        except ValueError as exc:
            raise Problem(422, "Invalid request", f"period: {exc}") from exc
        if not await may_see_owner(info.context.runtime, who, "person", person_id, p.start, p.end):
            raise Problem(403, "Forbidden", "you may only see your own scorecard, or your teams'")
        async with tenant_session(info.context.runtime.sessions, who.tenant_id) as session:
            card = await session.scalar(
                select(Scorecard).where(
                    Scorecard.tenant_id == who.tenant_id,
                    Scorecard.person_id == person_id,
                    Scorecard.period_kind == p.kind.value,
                    Scorecard.period_start == p.start,
                )
            )
            return None if card is None else await card_out(session, card, full=True)

    @strawberry.field(description="Ranks in a team (1, 2, 2, 4) and its grade distribution")
    async def team_ranking(self, info: Info[Context, None], period: str, team_id: str) -> JSON:
        who = info.context.principal
        today = date.today()
        if not await may_see_owner(info.context.runtime, who, "team", team_id, today, today):
            raise Problem(403, "Forbidden", "you may only rank your own teams")
        async with tenant_session(info.context.runtime.sessions, who.tenant_id) as session:
            return await ranking(session, who.tenant_id, period, team_id)

    @strawberry.field(description="The reviews the caller was asked for and has not given yet")
    async def reviews_to_do(self, info: Info[Context, None]) -> JSON:
        who = info.context.principal
        async with tenant_session(info.context.runtime.sessions, who.tenant_id) as session:
            return await reviews_to_do_rows(session, who.tenant_id, who.subject)
