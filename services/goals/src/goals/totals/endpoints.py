"""Live figures over REST: a person's, a team's or the company's actuals for a period."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from goals.models import messaging
from goals.targets import service as targets
from goals.totals import service
from goals.totals.explain import explain
from goals.totals.schemas import TargetIn, TotalOut
from goals.totals.store import tenant_calendar
from shared.auth.access import FORBIDDEN_PERSON, may_see_owner, principal, requires
from shared.auth.tokens import Principal
from shared.db.uow import tenant_session, unit_of_work
from shared.http.problems import Problem
from shared.periods import Period, PeriodKind, parse_month, parse_period, period_of
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["totals"])


def owner_of(person_id: str | None, team_id: str | None, company: bool) -> tuple[str, str]:
    given = [x for x in (person_id, team_id, "company" if company else None) if x]
    if len(given) != 1:
        raise targets.invalid("person_id", "give exactly one of person_id, team_id, company=true")
    if person_id:
        return "person", person_id
    if team_id:
        return "team", team_id
    return "company", targets.COMPANY_ID


def period_param(label: str | None, month: str | None, fiscal_start: int) -> Period:
    try:
        if month:
            return period_of(PeriodKind.MONTH, parse_month(month))
        if label:
            return parse_period(label, fiscal_start)
    except ValueError as exc:
        raise targets.invalid("period" if label else "month", str(exc)) from exc
    raise targets.invalid("period", "give period (2026, 2026-H1, 2026-Q1, 2026-03, 2026-W09)")


@router.get("/v1/totals", response_model=list[TotalOut])
async def get_totals(
    request: Request,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
    person_id: Annotated[str | None, Query(min_length=1)] = None,
    team_id: Annotated[str | None, Query(min_length=1)] = None,
    company: bool = False,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", examples=["2026-03"])] = None,
    period: Annotated[str | None, Query(examples=["2026-Q1", "2026", "2026-W09"])] = None,
) -> list[TotalOut]:
    """Running KPI figures of a person, a team or the company for a period, with the targets of
    their goals and attainment (ratios and averages included)."""
    kind, owner_id = owner_of(person_id, team_id, company)
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        _, fiscal_start = await tenant_calendar(session, who.tenant_id)
        p = period_param(period, month, fiscal_start)
        if not await may_see_owner(rt, who, kind, owner_id, p.start, p.end):
            raise Problem(403, "Forbidden", FORBIDDEN_PERSON)
        rows = await service.owner_figures(
            session, who.tenant_id, kind, owner_id, p.kind.value, p.start
        )
    return [
        TotalOut(
            person_id=f.owner_id,
            owner_kind=f.owner_kind,
            metric=f.metric,
            period_kind=f.period_kind,
            period_start=f.period_start,
            period_end=f.period_end,
            actual=f.actual,
            target=f.target,
            target_set=f.target_set,
            attainment=f.attainment,
            event_count=f.event_count,
            direction=f.direction,
            goal_id=f.goal_id,
        )
        for f in rows
    ]


@router.put("/v1/targets", status_code=204)
async def put_target(
    body: TargetIn,
    who: Annotated[Principal, Depends(requires("admin", "manager", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> None:
    """Set a person's monthly target for a metric (a person × month goal, set by hand)."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        await targets.save_goal(
            uow,
            who.tenant_id,
            metric=body.metric,
            owner_kind="person",
            owner_id=body.person_id,
            period=period_of(PeriodKind.MONTH, parse_month(body.month)),
            target=body.value,
            actor=who.subject,
            reason=body.reason,
            change="set",
        )


@router.get("/v1/totals/explain")
async def explain_total(
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
    metric: Annotated[str, Query(min_length=1)],
    person_id: Annotated[str | None, Query(min_length=1)] = None,
    team_id: Annotated[str | None, Query(min_length=1)] = None,
    company: bool = False,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    period: str | None = None,
) -> dict[str, Any]:
    """Why a figure is what it is: its formula, and every surviving event behind it (as corrected)
    with what it contributed — the same rules the live totals use."""
    kind, owner_id = owner_of(person_id, team_id, company)
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        _, fiscal_start = await tenant_calendar(session, who.tenant_id)
        p = period_param(period, month, fiscal_start)
        if not await may_see_owner(rt, who, kind, owner_id, p.start, p.end):
            raise Problem(403, "Forbidden", FORBIDDEN_PERSON)
        found = await explain(session, who.tenant_id, kind, owner_id, p, metric)
    if found is None:
        raise targets.invalid("metric", f"unknown metric {metric!r}")
    return {
        "owner_kind": kind,
        "owner_id": owner_id,
        "period": p.label,
        **{k: v for k, v in asdict(found).items() if k != "lines"},
        "actual": None if found.actual is None else str(found.actual),
        "lines": [
            asdict(line) | {"value": None if line.value is None else str(line.value)}
            for line in found.lines
        ],
    }
