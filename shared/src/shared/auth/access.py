"""Access decisions shared by every service's transports (REST dependencies, GraphQL resolvers)."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from shared.auth.tokens import Principal, authenticate
from shared.db.uow import tenant_session
from shared.http.problems import Problem
from shared.org import manages, manages_team
from shared.periods import parse_month

# Roles that read every person's figures in their tenant. Managers read their teams' people
# (transitively, as of the period); reps and assistants their own figures.
TENANT_READERS = ("admin", "hr", "finance")
FORBIDDEN_PERSON = "you may only see your own figures, or your teams' as their manager"


def principal(request: Request) -> Principal:
    """FastAPI dependency: the authenticated caller."""
    return authenticate(request.app.state.runtime.settings, request)


def require_roles(who: Principal, *roles: str) -> None:
    if not who.has(*roles):
        raise Problem(403, "Forbidden", f"requires one of the roles: {', '.join(roles)}")


async def may_see(runtime: Any, who: Principal, person_id: str, month: str | None) -> bool:
    """The one decision on reading a person's figures for a month (YYYY-MM)."""
    if who.subject == person_id or who.has(*TENANT_READERS):
        return True
    if not who.has("manager") or runtime.extras.get("org") is None or not month:
        return False
    try:
        start = parse_month(month)
    except ValueError:
        return False
    end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    async with tenant_session(runtime.sessions, who.tenant_id) as session:
        return await manages(
            session, runtime.extras["org"], who.tenant_id, who.subject, person_id, start, end
        )


async def may_see_owner(
    runtime: Any, who: Principal, owner_kind: str, owner_id: str, start: date, end: date
) -> bool:
    """Reading the figures of a person, a team or the company over [start, end]: tenant readers
    see all; a manager sees the teams they manage (and sub-teams) and those teams' people for the
    days they were there; anyone sees themselves."""
    if who.has(*TENANT_READERS):
        return True
    if owner_kind == "person" and who.subject == owner_id:
        return True
    org = runtime.extras.get("org")
    if not who.has("manager") or org is None or owner_kind == "company":
        return False
    async with tenant_session(runtime.sessions, who.tenant_id) as session:
        if owner_kind == "team":
            return await manages_team(session, org, who.tenant_id, who.subject, owner_id)
        return await manages(session, org, who.tenant_id, who.subject, owner_id, start, end)


async def can_see_person(
    request: Request,
    person_id: Annotated[str, Query(min_length=1)],
    who: Annotated[Principal, Depends(principal)],
) -> Principal:
    """FastAPI dependency for routes taking ?person_id=&month=: the caller, allowed to see them."""
    if not await may_see(
        request.app.state.runtime, who, person_id, request.query_params.get("month")
    ):
        raise Problem(403, "Forbidden", FORBIDDEN_PERSON)
    return who


def requires(*roles: str) -> Callable[[Principal], Principal]:
    """FastAPI dependency factory: the caller, holding one of these roles."""

    def dependency(who: Annotated[Principal, Depends(principal)]) -> Principal:
        require_roles(who, *roles)
        return who

    return dependency
