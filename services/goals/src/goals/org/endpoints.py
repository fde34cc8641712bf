"""Reporting lines over REST: teams (parent, manager) and people's team memberships over time."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from goals.models import messaging
from goals.org import service
from shared.auth.access import requires
from shared.auth.tokens import Principal
from shared.db.uow import unit_of_work
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


@router.put("/memberships", status_code=204)
async def put_membership(
    body: MembershipIn,
    who: Annotated[Principal, Depends(requires("admin", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> None:
    """A person joins or moves to a team from a date on."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        await service.save_membership(
            uow, who.tenant_id, who.subject, body.person_id, body.team_id, body.valid_from
        )
