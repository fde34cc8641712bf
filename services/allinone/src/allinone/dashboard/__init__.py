"""The rep dashboard: a static page (no build step) served by the all-in-one process at /dashboard/.

The page itself talks to the public API (/graphql, a few REST reads, the alerts subscription over
WebSocket) with the bearer token it is given in the URL fragment. Besides the files, this module
serves one small read, `GET /dashboard/api/context`, so the page can name the current periods in
the tenant's time zone and calendar and format money in the tenant's currency: the services'
APIs take period labels but do not expose the tenant's calendar to a rep.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from goals.models import Person, Tenant, org
from shared.auth.access import TENANT_READERS, principal
from shared.auth.tokens import Principal
from shared.db.uow import tenant_session
from shared.periods import PeriodKind, local_date, period_of, previous
from shared.runtime import Runtime
from shared.service import runtime_of

STATIC = Path(__file__).resolve().parent / "static"
PREFIX = "/dashboard"

router = APIRouter(tags=["dashboard"])


@router.get(PREFIX, include_in_schema=False)
async def dashboard_root() -> RedirectResponse:
    """/dashboard → /dashboard/ (relative asset URLs need the slash; the fragment survives)."""
    return RedirectResponse(f"{PREFIX}/", status_code=308)


@router.get(f"{PREFIX}/api/context")
async def dashboard_context(
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """Who is signed in, the teams whose view they may open, and the tenant's calendar: time zone,
    currency, today and the current month / quarter / year labels (plus last month) as the goals
    and pay APIs name them."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.tenant_id == who.tenant_id))
        name = await session.scalar(
            select(Person.name).where(
                Person.tenant_id == who.tenant_id, Person.person_id == who.subject
            )
        )
        teams = await _teams_for(session, who)
        people = await _names_for(session, who, teams)
    timezone = tenant.timezone if tenant else "UTC"
    fiscal_start = tenant.fiscal_year_start_month if tenant else 1
    now = datetime.now(UTC)
    today = local_date(now, timezone)
    month = period_of(PeriodKind.MONTH, today)
    periods = [
        month,
        period_of(PeriodKind.QUARTER, today, fiscal_start),
        period_of(PeriodKind.YEAR, today, fiscal_start),
        previous(month),
    ]
    return {
        "tenant": {
            "tenant_id": str(who.tenant_id),
            "name": tenant.name if tenant else None,
            "timezone": timezone,
            "currency": tenant.currency if tenant else None,
            "fiscal_year_start_month": fiscal_start,
        },
        "me": {"person_id": who.subject, "name": name, "roles": sorted(who.roles)},
        "teams": teams,
        "people": people,
        "today": today.isoformat(),
        "periods": [
            {
                "kind": p.kind.value,
                "label": p.label,
                "start": p.start.isoformat(),
                "end": p.end.isoformat(),
                "current": p.contains(today),
                "elapsed": str(p.elapsed_fraction(now, timezone)),
            }
            for p in periods
        ],
    }


async def _teams_for(session: AsyncSession, who: Principal) -> list[dict[str, Any]]:
    """The teams whose view the caller may open: every team for admin, HR and finance; for a
    manager the teams they manage and the teams under those (sub-teams after their parent)."""
    t = org.teams.c
    rows = (
        await session.execute(
            select(t.team_id, t.name, t.parent_team_id, t.manager_id)
            .where(t.tenant_id == who.tenant_id)
            .order_by(t.team_id)
        )
    ).all()
    if who.has(*TENANT_READERS):
        chosen = [r.team_id for r in rows]
    else:
        chosen = [r.team_id for r in rows if who.has("manager") and r.manager_id == who.subject]
        children: dict[str | None, list[str]] = {}
        for r in rows:
            children.setdefault(r.parent_team_id, []).append(r.team_id)
        for team_id in list(chosen):
            stack = list(children.get(team_id, []))
            while stack:
                child = stack.pop(0)
                if child not in chosen:
                    chosen.append(child)
                    stack.extend(children.get(child, []))
    by_id = {r.team_id: r for r in rows}
    # Members (today) by name, so the team's figures, alerts and pay name people; never e-mails.
    m = org.memberships.c
    today = datetime.now(UTC).date()
    members: dict[str, list[dict[str, str]]] = {team_id: [] for team_id in chosen}
    found = await session.execute(
        select(m.team_id, m.person_id, Person.name)
        .join(Person, (Person.tenant_id == m.tenant_id) & (Person.person_id == m.person_id))
        .where(
            m.tenant_id == who.tenant_id,
            m.team_id.in_(chosen),
            m.valid_from <= today,
            m.valid_to.is_(None) | (m.valid_to >= today),
        )
        .order_by(m.team_id, m.person_id)
    )
    for team_id, person_id, name in found:
        members[team_id].append({"person_id": person_id, "name": name})
    return [
        {
            "team_id": team_id,
            "name": by_id[team_id].name,
            "parent_team_id": by_id[team_id].parent_team_id,
            "manager_id": by_id[team_id].manager_id,
            "members": members[team_id],
        }
        for team_id in chosen
    ]


async def _names_for(
    session: AsyncSession, who: Principal, teams: list[dict[str, Any]]
) -> dict[str, str]:
    """Names (never e-mails) of the people whose figures the caller may read: everyone in the
    tenant for admin, HR and finance; a manager's team members; anyone else themselves."""
    if who.has(*TENANT_READERS):
        rows = await session.execute(
            select(Person.person_id, Person.name).where(Person.tenant_id == who.tenant_id)
        )
        return {person_id: name for person_id, name in rows}
    return {m["person_id"]: m["name"] for t in teams for m in t["members"]}


class DashboardFiles(StaticFiles):
    """The page's files, revalidated on every load (a 304 when unchanged) so an upgrade is never
    half-applied from the browser cache, and never naming the page to anyone it links to."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def mount_dashboard(app: FastAPI) -> FastAPI:
    """Serve the dashboard at /dashboard/ (index.html for the folder) and its context read."""
    app.include_router(router)  # before the mount: /dashboard/api/... is not a file
    app.mount(PREFIX, DashboardFiles(directory=STATIC, html=True), name="dashboard")
    return app
