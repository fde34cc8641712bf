"""Reporting lines over REST: teams (parent, manager) and people's team memberships over time."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from goals.ingest.service import replay_unknown_actors
from goals.models import Person, messaging, org
from goals.org import people, service
from shared.auth.access import requires
from shared.auth.tokens import Principal
from shared.db.uow import tenant_session, unit_of_work
from shared.http.problems import invalid_field
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(prefix="/v1/org", tags=["org"])


class TeamIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    parent_team_id: str | None = None
    manager_id: str | None = Field(default=None, description="the manager's person id")


class MembershipIn(BaseModel):
    person_id: str = Field(min_length=1)
    team_id: str = Field(min_length=1)
    valid_from: date = Field(
        description="first day in the team (a move ends the previous team the day before)"
    )


@router.put("/teams/{team_id}", status_code=204)
async def put_team(
    team_id: Annotated[str, Path(min_length=1)],
    body: TeamIn,
    who: Annotated[Principal, Depends(requires("admin", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> None:
    """Create or change a team: its name, parent team and manager."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        await service.save_team(uow, who.tenant_id, who.subject, team_id, body.model_dump())


Role = Literal[people.ROLES]  # type: ignore[valid-type]


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: Role
    email: str | None = Field(default=None, max_length=320)
    manager_id: str | None = None
    active_from: date | None = Field(default=None, description="joined (targets prorate before)")
    active_to: date | None = Field(default=None, description="left (targets prorate after)")
    team_id: str | None = None
    team_from: date | None = Field(
        default=None, description="in team_id from (default active_from)"
    )

    @model_validator(mode="after")
    def _dates(self) -> PersonIn:
        if self.active_from and self.active_to and self.active_to < self.active_from:
            raise ValueError("active_to is before active_from")
        return self


class PersonOut(BaseModel):
    person_id: str
    name: str
    email: str | None
    role: str
    manager_id: str | None
    active_from: date | None
    active_to: date | None


async def ensure_team(
    session: AsyncSession, tenant_id: uuid.UUID, team_id: str, field: str
) -> None:
    t = org.teams.c
    found = await session.scalar(
        select(t.team_id).where(t.tenant_id == tenant_id, t.team_id == team_id)
    )
    if found is None:
        raise invalid_field(field, f"unknown team {team_id!r}")


@router.put("/people/{person_id}", response_model=PersonOut)
async def put_person(
    person_id: Annotated[str, Path(min_length=1, max_length=200)],
    body: PersonIn,
    who: Annotated[Principal, Depends(requires("admin", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> PersonOut:
    """Create or change a person: role, manager, active dates, and their team from a date on."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        if body.team_id:
            await ensure_team(uow.session, who.tenant_id, body.team_id, "team_id")
        await people.save_person(uow, who.tenant_id, who.subject, person_id, **body.model_dump())
        # Events that named them before they were known come out of quarantine.
        await replay_unknown_actors(uow, who.tenant_id, who.subject, rt.settings.pseudonym_key)
    return PersonOut(person_id=person_id, **body.model_dump(exclude={"team_id", "team_from"}))


@router.get("/people", response_model=list[PersonOut])
async def list_people(
    who: Annotated[Principal, Depends(requires("admin", "hr", "finance", "manager"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[PersonOut]:
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = await session.scalars(
            select(Person).where(Person.tenant_id == who.tenant_id).order_by(Person.person_id)
        )
        return [PersonOut.model_validate(p, from_attributes=True) for p in rows]


@router.put("/memberships", status_code=204)
async def put_membership(
    body: MembershipIn,
    who: Annotated[Principal, Depends(requires("admin", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> None:
    """A person joins or moves to a team from a date on."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        await ensure_team(uow.session, who.tenant_id, body.team_id, "team_id")
        await service.save_membership(
            uow, who.tenant_id, who.subject, body.person_id, body.team_id, body.valid_from
        )
