from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from goals.models import messaging
from goals.people import service
from shared.auth.access import requires
from shared.auth.tokens import Principal
from shared.db.uow import unit_of_work
from shared.http.people import export_router
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["personal data"])


class Erased(BaseModel):
    pseudonym: str


@router.post("/v1/people/{person_id}/erase", response_model=Erased)
async def erase_person(
    person_id: Annotated[str, Path(min_length=1)],
    who: Annotated[Principal, Depends(requires("admin", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> Erased:
    """Erase a person: their id becomes a pseudonym in every service (totals stay as they were)."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        pseudonym = await service.erase(
            uow, who.tenant_id, person_id, who.subject, rt.settings.pseudonym_key
        )
    return Erased(pseudonym=pseudonym)


export = export_router("goals", messaging, service.export)
