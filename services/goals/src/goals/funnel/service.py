"""The sales funnel of a person, a team or the company for a period, read from the facts.

A deal belongs to the period its *first* stage event falls in (the earliest stage fact of the
deal, by ``occurred_at``; its tenant-local day is compared with the period), and to the owner of
that first event: the person who is its actor, the teams that person was in on that day (a team
includes its sub-teams, recursively), and the company. The deal is then counted whole, with all
of its stage events, even those that happen later or are done by someone else.

Deals are tied together by ``deal_id`` within a tenant (across sources). Deleted facts (``body``
NULL) do not count, so deleting a deal's only lead removes the deal.

One SQL statement per read, whatever the number of deals; the maths is
:mod:`goals.funnel.maths`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from goals.funnel.maths import STAGES, Funnel, StageEvent, deal_paths, funnel_from_paths
from goals.models import Fact, org
from goals.targets import service as targets
from goals.totals.store import tenant_calendar
from shared.auth.access import FORBIDDEN_PERSON, may_see_owner
from shared.auth.tokens import Principal
from shared.db.uow import tenant_session
from shared.http.problems import Problem
from shared.periods import Period, parse_period

OWNER_KINDS = ("person", "team", "company")

_FACTS = f'"{Fact.__table__.schema}".{Fact.__tablename__}'
_TEAMS = f'"{org.teams.schema}".{org.teams.name}'
_MEMBERSHIPS = f'"{org.memberships.schema}".{org.memberships.name}'
# Among stage events at the same instant, the earlier stage is the first one.
_STAGE_RANK = (
    "CASE f.type " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STAGES)) + " END"
)
_STAGE_FACT = "f.tenant_id = :tenant AND f.type IN :stages AND f.body IS NOT NULL"

_SUBTREE = f"""
    subtree(team_id) AS (
        SELECT team_id FROM {_TEAMS} WHERE tenant_id = :tenant AND team_id = :owner
        UNION
        SELECT c.team_id FROM {_TEAMS} c JOIN subtree s ON c.parent_team_id = s.team_id
        WHERE c.tenant_id = :tenant
    ),"""

_OWNER_FILTER = {
    "person": "AND fe.actor_id = :owner",
    "team": f"""AND EXISTS (
            SELECT 1 FROM {_MEMBERSHIPS} m JOIN subtree USING (team_id)
            WHERE m.tenant_id = :tenant AND m.person_id = fe.actor_id
              AND m.valid_from <= fe.local_day
              AND (m.valid_to IS NULL OR m.valid_to >= fe.local_day)
        )""",
    "company": "",
}


def _statement(owner_kind: str) -> Any:
    # candidates: deals with a stage fact in the period (served by ix_facts_tenant_type_day); a
    # deal whose first stage fact is in the period is always one of them.
    sql = f"""
        WITH RECURSIVE {_SUBTREE if owner_kind == "team" else ""}
        candidates AS (
            SELECT DISTINCT f.deal_id FROM {_FACTS} f
            WHERE {_STAGE_FACT} AND f.deal_id IS NOT NULL
              AND f.local_day BETWEEN :start AND :end
        ),
        firsts AS (
            SELECT DISTINCT ON (f.deal_id) f.deal_id, f.actor_id, f.local_day
            FROM {_FACTS} f JOIN candidates c ON c.deal_id = f.deal_id
            WHERE {_STAGE_FACT} AND f.occurred_at IS NOT NULL
            ORDER BY f.deal_id, f.occurred_at, {_STAGE_RANK}, f.source_id, f.external_id
        ),
        chosen AS (
            SELECT fe.deal_id FROM firsts fe
            WHERE fe.local_day BETWEEN :start AND :end {_OWNER_FILTER[owner_kind]}
        )
        SELECT f.deal_id, f.type, f.occurred_at
        FROM {_FACTS} f JOIN chosen ON chosen.deal_id = f.deal_id
        WHERE {_STAGE_FACT} AND f.occurred_at IS NOT NULL
    """
    return text(sql).bindparams(bindparam("stages", expanding=True))


async def funnel_for(
    session: AsyncSession, tenant_id: uuid.UUID, owner_kind: str, owner_id: str, period: Period
) -> Funnel:
    """The funnel of the deals that started in the period, attributed to the owner."""
    if owner_kind not in OWNER_KINDS:
        raise ValueError(f"owner_kind must be one of {OWNER_KINDS}, not {owner_kind!r}")
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "stages": list(STAGES),
        "start": period.start,
        "end": period.end,
    }
    if owner_kind != "company":
        params["owner"] = owner_id
    rows = await session.execute(_statement(owner_kind), params)
    events = [StageEvent(deal_id=d, stage=t, occurred_at=at) for d, t, at in rows]
    return funnel_from_paths(deal_paths(events))


@dataclass(frozen=True)
class FunnelRead:
    owner_kind: str
    owner_id: str
    period: Period
    funnel: Funnel


async def read_funnel(
    runtime: Any,
    who: Principal,
    *,
    person_id: str | None,
    team_id: str | None,
    company: bool,
    period: str | None,
) -> FunnelRead:
    """What both transports do: name the owner and the period, check access, read the funnel.
    Raises a Problem: 422 for a bad owner or period, 403 when the caller may not see the owner."""
    given = [x for x in (person_id, team_id, "company" if company else None) if x]
    if len(given) != 1:
        raise targets.invalid("person_id", "give exactly one of person_id, team_id, company=true")
    if person_id:
        kind, owner_id = "person", person_id
    elif team_id:
        kind, owner_id = "team", team_id
    else:
        kind, owner_id = "company", targets.COMPANY_ID
    if not period:
        raise targets.invalid("period", "give period (2026, 2026-H1, 2026-Q1, 2026-03, 2026-W09)")
    async with tenant_session(runtime.sessions, who.tenant_id) as session:
        _, fiscal_start = await tenant_calendar(session, who.tenant_id)
    try:
        p = parse_period(period, fiscal_start)
    except ValueError as exc:
        raise targets.invalid("period", str(exc)) from exc
    if not await may_see_owner(runtime, who, kind, owner_id, p.start, p.end):
        raise Problem(403, "Forbidden", FORBIDDEN_PERSON)
    async with tenant_session(runtime.sessions, who.tenant_id) as session:
        result = await funnel_for(session, who.tenant_id, kind, owner_id, p)
    return FunnelRead(owner_kind=kind, owner_id=owner_id, period=p, funnel=result)
