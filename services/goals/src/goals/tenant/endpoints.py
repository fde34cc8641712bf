from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from goals.models import messaging
from goals.tenant import service
from goals.tenant.schemas import TenantCreate, TenantOut
from shared.auth.access import requires
from shared.auth.tokens import Principal
from shared.db.uow import unit_of_work
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])


@router.post("", status_code=201, response_model=TenantOut)
async def create_tenant(
    body: TenantCreate,
    who: Annotated[Principal, Depends(requires("platform_admin"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> TenantOut:
    """Create a tenant (platform operators only)."""
    tenant_id = uuid.uuid4()
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(tenant_id)
        tenant = await service.create_tenant(uow.session, tenant_id=tenant_id, **body.model_dump())
        return TenantOut.model_validate(tenant, from_attributes=True)
