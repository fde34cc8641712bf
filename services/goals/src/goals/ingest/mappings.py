"""Tenant-defined mappings for any other CRM (纷享销客, 销售易, 钉钉 CRM...): JSON paths to
canonical fields and value maps. A mapping is checked when saved (the failing path is named), can
be tried on a sample payload without writing anything, and is then switched on."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from goals.ingest.adapters.mapping import MappingError, apply_mapping, compile_mapping
from goals.ingest.service import forget_source
from goals.models import Source, audit_log, messaging
from shared.auth.access import requires
from shared.auth.tokens import Principal
from shared.db import audit
from shared.db.uow import UnitOfWork, unit_of_work
from shared.http.problems import Problem
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(prefix="/v1/sources/{source_id}/mapping", tags=["ingest"])


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mapping: dict[str, Any] = Field(description="items, fields, timezone: see the README")
    activate: bool = Field(default=False, description="switch it on at once")


class TryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample: Any
    mapping: dict[str, Any] | None = Field(default=None, description="default: the saved draft")


class MappingOut(BaseModel):
    draft: dict[str, Any] | None
    active: dict[str, Any] | None


def refused(exc: MappingError) -> Problem:
    return Problem(
        422,
        "Invalid mapping",
        str(exc),
        kind="validation-error",
        errors=[{"field": f"mapping.{exc.field}", "message": exc.message}],
    )


async def mapping_source(uow: UnitOfWork, tenant_id: uuid.UUID, source_id: uuid.UUID) -> Source:
    source = await uow.session.scalar(
        select(Source)
        .where(Source.tenant_id == tenant_id, Source.source_id == source_id)
        .with_for_update()
    )
    if source is None:
        raise Problem(404, "Not found", "no such source")
    if source.kind != "mapping":
        raise Problem(
            409, "Not a mapping source", f"this source is a {source.kind} source", kind="conflict"
        )
    return source


@router.put("", response_model=MappingOut)
async def put_mapping(
    source_id: uuid.UUID,
    body: MappingIn,
    who: Annotated[Principal, Depends(requires("admin", "integration"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> MappingOut:
    """Save a mapping as the draft (refused with the failing path when it is broken)."""
    try:
        spec = compile_mapping(body.mapping)
    except MappingError as exc:
        raise refused(exc) from exc
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        source = await mapping_source(uow, who.tenant_id, source_id)
        saved = spec.model_dump(mode="json", exclude_none=True)
        settings = dict(source.settings or {})
        current = dict(settings.get("mapping") or {})
        current["draft"] = saved
        if body.activate:
            current["active"] = saved
        settings["mapping"] = current
        source.settings = settings
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="mapping.activated" if body.activate else "mapping.saved",
            target_type="source",
            target_key=str(source_id),
            before=None,
            after=saved,
        )
    forget_source(source_id)
    return MappingOut(draft=current.get("draft"), active=current.get("active"))


@router.post("/activate", response_model=MappingOut)
async def activate_mapping(
    source_id: uuid.UUID,
    who: Annotated[Principal, Depends(requires("admin", "integration"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> MappingOut:
    """Switch the draft on: deliveries are mapped with it from now on."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        source = await mapping_source(uow, who.tenant_id, source_id)
        settings = dict(source.settings or {})
        current = dict(settings.get("mapping") or {})
        if not current.get("draft"):
            raise Problem(409, "No draft", "save a mapping first", kind="conflict")
        current["active"] = current["draft"]
        settings["mapping"] = current
        source.settings = settings
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="mapping.activated",
            target_type="source",
            target_key=str(source_id),
            before=None,
            after=current["active"],
        )
    forget_source(source_id)
    return MappingOut(draft=current.get("draft"), active=current.get("active"))


@router.post("/test")
async def try_mapping(
    source_id: uuid.UUID,
    body: TryIn,
    who: Annotated[Principal, Depends(requires("admin", "integration"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """Map a sample payload with the draft (or the mapping given) and show the canonical events
    and errors it gives — nothing is stored."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        source = await mapping_source(uow, who.tenant_id, source_id)
        raw = body.mapping or ((source.settings or {}).get("mapping") or {}).get("draft")
        await uow.discard()
    if raw is None:
        raise Problem(409, "No draft", "save a mapping first, or send one", kind="conflict")
    try:
        spec = compile_mapping(raw)
    except MappingError as exc:
        raise refused(exc) from exc
    results = apply_mapping(spec, body.sample)
    return {
        "results": [{"index": m.index, "event": m.event, "error": m.error} for m in results],
        "ok": all(m.error is None for m in results),
    }
