"""GET /v1/audit for a service: its audit log, for HR, finance and admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import Table

from shared.auth.access import principal, require_roles
from shared.auth.tokens import Principal
from shared.db.audit import history
from shared.db.uow import tenant_session


class AuditEntry(BaseModel):
    audit_id: int
    actor: str
    action: str
    target_type: str
    target_key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    at: datetime


def audit_router(service: str, table: Table) -> APIRouter:
    router = APIRouter(tags=["audit"])

    @router.get(f"/v1/audit/{service}", response_model=list[AuditEntry], name=f"audit_{service}")
    async def list_audit(
        request: Request,
        who: Annotated[Principal, Depends(principal)],
        target_type: Annotated[str | None, Query()] = None,
        target_key: Annotated[str | None, Query()] = None,
    ) -> list[AuditEntry]:
        """Who changed what, with the values before and after, newest first."""
        require_roles(who, "admin", "hr", "finance")
        async with tenant_session(request.app.state.runtime.sessions, who.tenant_id) as session:
            rows = await history(
                session, table, who.tenant_id, target_type=target_type, target_key=target_key
            )
        return [AuditEntry.model_validate(r) for r in rows]

    return router
