"""GET /v1/people/{person_id}/export/<service>: what a service holds about a person."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from shared.auth.access import principal, require_roles
from shared.auth.tokens import Principal
from shared.db.messaging import MessagingTables
from shared.db.uow import UnitOfWork, unit_of_work

Exporter = Callable[[UnitOfWork, uuid.UUID, str], Awaitable[dict[str, Any]]]


def export_router(service: str, messaging: MessagingTables, exporter: Exporter) -> APIRouter:
    router = APIRouter(tags=["personal data"])

    @router.get(f"/v1/people/{{person_id}}/export/{service}", name=f"export_{service}")
    async def export_person(
        request: Request,
        person_id: Annotated[str, Path(min_length=1)],
        who: Annotated[Principal, Depends(principal)],
    ) -> dict[str, Any]:
        """Everything this service holds about a person (for HR, admins, or the person)."""
        if who.subject != person_id:
            require_roles(who, "admin", "hr")
        async with unit_of_work(request.app.state.runtime.sessions, messaging) as uow:
            await uow.set_tenant(who.tenant_id)
            return {"service": service, **await exporter(uow, who.tenant_id, person_id)}

    return router
