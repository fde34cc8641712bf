"""Spreadsheet imports (HR lives in spreadsheets): teams, people and targets from CSV or XLSX.

The file is the request body (``Content-Type: text/csv`` or the XLSX type). Every row is checked
first; a file with any bad row changes nothing and the answer names each bad row and column.
``?dry_run=true`` checks without applying."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from goals.catalog.service import definitions
from goals.imports.parsing import (
    CellError,
    Column,
    ImportFileError,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_rows,
    read_table,
)
from goals.ingest.service import replay_unknown_actors
from goals.models import ClosedPeriod, Person, messaging, org
from goals.org.people import ROLES, save_person
from goals.org.service import rebuild_totals, save_team
from goals.targets.service import COMPANY_ID, save_goal
from goals.totals.store import tenant_calendar
from shared.auth.access import requires
from shared.auth.tokens import Principal
from shared.db.uow import unit_of_work
from shared.http.problems import Problem
from shared.periods import parse_period
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(prefix="/v1/imports", tags=["imports"])
MAX_BYTES = 20 * 1024 * 1024


class Imported(BaseModel):
    rows: int
    created: int
    updated: int
    dry_run: bool


def _text(limit: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"longer than {limit} characters")
        return value

    return parse


TEAM_COLUMNS = (
    Column("team_id", parse=_text(200)),
    Column("name", parse=_text(200)),
    Column("parent_team_id", required=False, aliases=("parent",)),
    Column("manager_id", required=False, aliases=("manager",)),
)
PEOPLE_COLUMNS = (
    Column("person_id", parse=_text(200), aliases=("id", "external_id")),
    Column("name", parse=_text(200)),
    Column("role", parse=parse_choice(*ROLES)),
    Column("email", required=False, parse=_text(320)),
    Column("manager_id", required=False, aliases=("manager",)),
    Column("active_from", required=False, parse=parse_date, aliases=("joined", "start_date")),
    Column("active_to", required=False, parse=parse_date, aliases=("left", "end_date")),
    Column("team_id", required=False, aliases=("team",)),
    Column("team_from", required=False, parse=parse_date),
)
TARGET_COLUMNS = (
    Column("metric"),
    Column("owner_kind", required=False, parse=parse_choice("company", "team", "person")),
    Column("owner_id", required=False, aliases=("person_id", "team_id")),
    Column("period"),
    Column("target", parse=parse_decimal, aliases=("quota",)),
    Column("dimension", required=False),
    Column("reason", required=False, parse=_text(2000)),
    # Imported quotas prorate for joiners and leavers unless marked as set by hand.
    Column("set_by_hand", required=False, parse=parse_choice("yes", "no", "true", "false")),
)


async def _read(
    request: Request, columns: Sequence[Column]
) -> tuple[list[tuple[int, dict[str, Any]]], list[CellError]]:
    size = int(request.headers.get("content-length") or 0)
    if size > MAX_BYTES:
        raise Problem(413, "Payload too large", f"an import is limited to {MAX_BYTES} bytes")
    data = await request.body()
    if len(data) > MAX_BYTES:
        raise Problem(413, "Payload too large", f"an import is limited to {MAX_BYTES} bytes")
    try:
        headers, rows = read_table(data, None, request.headers.get("content-type"))
        return parse_rows(headers, rows, columns)
    except ImportFileError as exc:
        raise Problem(
            422,
            "Invalid file",
            str(exc),
            kind="validation-error",
            errors=[{"field": exc.column or "file", "message": str(exc)}],
        ) from exc


def _refuse(errors: list[CellError]) -> Problem:
    errors = sorted(errors, key=lambda e: (e.row, e.column))
    return Problem(
        422,
        "Invalid rows",
        f"{len(errors)} problem(s) in {len({e.row for e in errors})} row(s); nothing was imported",
        kind="validation-error",
        errors=[
            {"row": e.row, "column": e.column, "field": e.column, "message": e.detail}
            for e in errors
        ],
    )


async def _known_teams(session: AsyncSession, tenant_id: uuid.UUID) -> set[str]:
    t = org.teams.c
    return {r[0] for r in await session.execute(select(t.team_id).where(t.tenant_id == tenant_id))}


@router.post("/teams", response_model=Imported)
async def import_teams(
    request: Request,
    who: Annotated[Principal, Depends(requires("admin", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
    dry_run: bool = False,
) -> Imported:
    """Teams and regions: team_id, name, parent_team_id, manager_id."""
    rows, errors = await _read(request, TEAM_COLUMNS)
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        known = await _known_teams(uow.session, who.tenant_id)
        in_file: dict[str, int] = {}
        for row, values in rows:
            if values["team_id"] in in_file:
                errors.append(
                    CellError(row, "team_id", f"also on row {in_file[values['team_id']]}")
                )
            in_file.setdefault(values["team_id"], row)
        for row, values in rows:
            parent = values["parent_team_id"]
            if parent and parent not in known and parent not in in_file:
                errors.append(CellError(row, "parent_team_id", f"unknown team {parent!r}"))
            if parent == values["team_id"]:
                errors.append(CellError(row, "parent_team_id", "a team cannot be its own parent"))
        if errors:
            raise _refuse(errors)
        created = sum(1 for _, v in rows if v["team_id"] not in known)
        if not dry_run:
            affected = False
            for _, values in rows:
                fields = {k: values[k] for k in ("name", "parent_team_id", "manager_id")}
                affected |= await save_team(
                    uow, who.tenant_id, who.subject, values["team_id"], fields, rebuild=False
                )
            if affected:
                await rebuild_totals(uow, who.tenant_id)
        else:
            await uow.discard()
    return Imported(rows=len(rows), created=created, updated=len(rows) - created, dry_run=dry_run)


@router.post("/people", response_model=Imported)
async def import_people(
    request: Request,
    who: Annotated[Principal, Depends(requires("admin", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
    dry_run: bool = False,
) -> Imported:
    """People: person_id (as the CRM names them), name, role, email, manager_id, active_from,
    active_to, team_id, team_from."""
    rows, errors = await _read(request, PEOPLE_COLUMNS)
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        session = uow.session
        teams = await _known_teams(session, who.tenant_id)
        existing = {
            r[0]
            for r in await session.execute(
                select(Person.person_id).where(Person.tenant_id == who.tenant_id)
            )
        }
        in_file: dict[str, int] = {}
        for row, v in rows:
            if v["person_id"] in in_file:
                errors.append(CellError(row, "person_id", f"also on row {in_file[v['person_id']]}"))
            in_file.setdefault(v["person_id"], row)
        for row, v in rows:
            if v["team_id"] and v["team_id"] not in teams:
                errors.append(CellError(row, "team_id", f"unknown team {v['team_id']!r}"))
            manager = v["manager_id"]
            if manager and manager not in existing and manager not in in_file:
                errors.append(CellError(row, "manager_id", f"unknown person {manager!r}"))
            if manager and manager == v["person_id"]:
                errors.append(CellError(row, "manager_id", "a person cannot manage themselves"))
            if v["active_from"] and v["active_to"] and v["active_to"] < v["active_from"]:
                errors.append(CellError(row, "active_to", "before active_from"))
            if v["team_from"] and not v["team_id"]:
                errors.append(CellError(row, "team_from", "given without team_id"))
        if errors:
            raise _refuse(errors)
        created = 0
        if not dry_run:
            affected = False
            for _, v in rows:
                new, moved = await save_person(
                    uow, who.tenant_id, who.subject, v.pop("person_id"), rebuild=False, **v
                )
                created += int(new)
                affected |= moved
            if affected:
                await rebuild_totals(uow, who.tenant_id)
            await replay_unknown_actors(uow, who.tenant_id, who.subject, rt.settings.pseudonym_key)
        else:
            created = sum(1 for p in in_file if p not in existing)
            await uow.discard()
    return Imported(rows=len(rows), created=created, updated=len(rows) - created, dry_run=dry_run)


@router.post("/targets", response_model=Imported)
async def import_targets(
    request: Request,
    who: Annotated[Principal, Depends(requires("admin", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
    dry_run: bool = False,
) -> Imported:
    """Targets: metric, owner_kind (person by default), owner_id, period
    (2026, 2026-H1, 2026-Q1, 2026-03, 2026-W09), target, dimension, reason, set_by_hand
    (yes: not prorated for joiners and leavers)."""
    rows, errors = await _read(request, TARGET_COLUMNS)
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        session = uow.session
        _, fiscal_start = await tenant_calendar(session, who.tenant_id)
        metrics = await definitions(session, who.tenant_id)
        teams = await _known_teams(session, who.tenant_id)
        closed = {
            (r[0], r[1])
            for r in await session.execute(
                select(ClosedPeriod.period_kind, ClosedPeriod.period_start).where(
                    ClosedPeriod.tenant_id == who.tenant_id
                )
            )
        }
        planned: list[dict[str, Any]] = []
        seen: dict[tuple[Any, ...], int] = {}
        for row, v in rows:
            kind = v["owner_kind"] or "person"
            owner = v["owner_id"] or (COMPANY_ID if kind == "company" else None)
            bad = len(errors)
            if v["metric"] not in metrics:
                errors.append(CellError(row, "metric", f"unknown metric {v['metric']!r}"))
            if owner is None:
                errors.append(CellError(row, "owner_id", "required"))
            elif kind == "team" and owner not in teams:
                errors.append(CellError(row, "owner_id", f"unknown team {owner!r}"))
            elif kind == "company" and owner != COMPANY_ID:
                errors.append(CellError(row, "owner_id", f"the company is {COMPANY_ID!r}"))
            if v["target"] <= 0:
                errors.append(CellError(row, "target", "must be positive"))
            try:
                period = parse_period(v["period"], fiscal_start)
            except ValueError as exc:
                errors.append(CellError(row, "period", str(exc)))
                continue
            if (period.kind.value, period.start) in closed:
                errors.append(CellError(row, "period", f"{period.label} is closed"))
            dimension = v["dimension"] or ""
            key = (v["metric"], dimension, kind, owner, period.label)
            if key in seen:
                errors.append(CellError(row, "period", f"the same goal is on row {seen[key]}"))
            seen.setdefault(key, row)
            if len(errors) == bad:
                planned.append(
                    {
                        "metric": v["metric"],
                        "dimension": dimension,
                        "owner_kind": kind,
                        "owner_id": owner,
                        "period": period,
                        "target": Decimal(v["target"]),
                        "reason": v["reason"] or "import",
                        "set_by_hand": (v["set_by_hand"] or "no") in ("yes", "true"),
                    }
                )
        if errors:
            raise _refuse(errors)
        created = 0
        for p in planned:
            saved = await save_goal(uow, who.tenant_id, actor=who.subject, change="import", **p)
            created += int(saved.created)
        if dry_run:
            await uow.discard()
        elif any(p["dimension"] for p in planned):
            await rebuild_totals(uow, who.tenant_id)
    return Imported(rows=len(rows), created=created, updated=len(rows) - created, dry_run=dry_run)
