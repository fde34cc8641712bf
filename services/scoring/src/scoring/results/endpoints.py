"""Results applied (seed 003): S/A → talent pool; C → training assignment and improvement plan
(PIP); D → role review; two consecutive periods at C or below → flagged for role review."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy import select

from scoring.models import Scorecard
from shared.auth.access import requires
from shared.auth.tokens import Principal
from shared.db.uow import tenant_session
from shared.http.problems import invalid_field
from shared.periods import parse_period, previous
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["results"])
OUTCOMES = {
    "S": ["talent_pool"],
    "A": ["talent_pool"],
    "C": ["training", "improvement_plan"],
    "D": ["role_review"],
}
LOW = {"C", "D"}


@router.get("/v1/results")
async def results(
    period: str,
    who: Annotated[Principal, Depends(requires("admin", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
    fiscal_year_start_month: int = 1,
) -> list[dict[str, Any]]:
    """For HR: each final grade of the period and what follows from it."""
    try:
        p = parse_period(period, fiscal_year_start_month)
    except ValueError as exc:
        raise invalid_field("period", str(exc)) from exc
    before = previous(p)
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = list(
            await session.scalars(
                select(Scorecard).where(
                    Scorecard.tenant_id == who.tenant_id,
                    Scorecard.period_kind == p.kind.value,
                    Scorecard.period_start.in_([p.start, before.start]),
                    Scorecard.status == "final",
                )
            )
        )
    earlier = {c.person_id: c.grade for c in rows if c.period_start == before.start}
    out = []
    for c in sorted((c for c in rows if c.period_start == p.start), key=lambda c: c.person_id):
        actions = list(OUTCOMES.get(c.grade or "", []))
        flagged = c.grade in LOW and earlier.get(c.person_id) in LOW
        if flagged and "role_review" not in actions:
            actions.append("role_review")
        out.append(
            {
                "person_id": c.person_id,
                "grade": c.grade,
                "total": None if c.total is None else str(c.total),
                "previous_grade": earlier.get(c.person_id),
                "consecutive_low": flagged,
                "actions": actions,
            }
        )
    return out
