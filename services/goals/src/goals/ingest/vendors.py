"""Deliveries from HubSpot, Salesforce, Pipedrive and tenant-mapped CRMs: authenticate with the
vendor's own scheme, map to canonical events with the vendor's adapter, then the common path
(actors, idempotency, the system of record, the outbox). Items that cannot be mapped are
quarantined with the vendor's own item, and can be replayed once the mapping is fixed."""

from __future__ import annotations

import importlib
import json
import time
from types import ModuleType
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from goals.ingest import service
from goals.ingest.adapters.base import (
    Credentials,
    Delivery,
    Malformed,
    Mapped,
    ObjectState,
    Refused,
)
from goals.ingest.schemas import Outcome
from goals.models import CrmObjectState, Quarantine
from shared.db.uow import UnitOfWork
from shared.http.problems import Problem
from shared.observability.metrics import WEBHOOKS
from shared.runtime import Runtime

KINDS = {
    "hubspot": "goals.ingest.adapters.hubspot",
    "salesforce": "goals.ingest.adapters.salesforce",
    "pipedrive": "goals.ingest.adapters.pipedrive",
    "mapping": "goals.ingest.adapters.mapping",
}


def adapter_of(kind: str) -> ModuleType:
    return importlib.import_module(KINDS[kind])


def public_url(rt: Runtime, request: Request) -> str:
    """The URI as the vendor called it (behind proxies: the configured public base URL)."""
    query = request.url.query
    return f"{rt.settings.public_base_url.rstrip('/')}{request.url.path}" + (
        f"?{query}" if query else ""
    )


def credentials(source: service.SourceInfo) -> Credentials:
    return Credentials(secrets=source.secrets, settings=source.settings)


def to_events(
    adapter: ModuleType, source: service.SourceInfo, payload: Any, state: ObjectState
) -> list[Mapped]:
    if source.kind == "mapping":
        active = (source.settings.get("mapping") or {}).get("active")
        if active is None:
            return [Mapped(index=0, raw=payload, error="no active mapping: save and switch one on")]
        return list(adapter.apply_mapping(adapter.compile_mapping(active), payload))
    return list(adapter.to_events(payload, credentials(source), state))


async def load_state(
    uow: UnitOfWork, source: service.SourceInfo, keys: set[tuple[str, str]]
) -> ObjectState:
    if not keys:
        return ObjectState()
    rows = await uow.session.execute(
        select(
            CrmObjectState.object_type, CrmObjectState.object_id, CrmObjectState.properties
        ).where(
            CrmObjectState.tenant_id == source.tenant_id,
            CrmObjectState.source_id == source.source_id,
            tuple_(CrmObjectState.object_type, CrmObjectState.object_id).in_(sorted(keys)),
        )
    )
    return ObjectState({(r[0], r[1]): r[2] for r in rows})


async def save_state(uow: UnitOfWork, source: service.SourceInfo, state: ObjectState) -> None:
    if not state.changed:
        return
    props = state.items()
    rows = [
        {
            "tenant_id": source.tenant_id,
            "source_id": source.source_id,
            "object_type": t,
            "object_id": i,
            "properties": props[(t, i)],
        }
        for t, i in sorted(state.changed)
    ]
    stmt = pg_insert(CrmObjectState).values(rows)
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[
                CrmObjectState.tenant_id,
                CrmObjectState.source_id,
                CrmObjectState.object_type,
                CrmObjectState.object_id,
            ],
            set_={"properties": stmt.excluded.properties, "updated_at": func.now()},
        )
    )


async def ingest_mapped(
    uow: UnitOfWork,
    source: service.SourceInfo,
    payload: Any,
    mapped: list[Mapped],
    pseudonym_key: str | None,
) -> list[dict[str, Any]]:
    """Accept the mapped events, quarantine the unmappable items; one result per vendor item."""
    results: dict[int, dict[str, Any]] = {}
    events = [m for m in mapped if m.event is not None]
    outcomes = await service.accept_events(
        uow, source, [m.event for m in events], pseudonym_key=pseudonym_key
    )
    for m, outcome in zip(events, outcomes, strict=True):
        results[m.index] = outcome.model_dump(mode="json") | {"index": m.index}
    failed = []
    for m in mapped:
        if m.event is not None:
            continue
        if m.error is None:
            results[m.index] = {"index": m.index, "status": "ignored", "http_status": 200}
            continue
        q = service.quarantine(
            uow,
            source,
            reason="unmappable",
            # The whole delivery, so that a replay maps it again exactly as it came.
            body=json.dumps(payload, ensure_ascii=False, default=str),
            detail={"error": m.error, "stage": "vendor_item", "index": m.index, "item": m.raw},
        )
        failed.append((m, q))
    if failed:
        await uow.session.flush()
        for m, q in failed:
            results[m.index] = {
                "index": m.index,
                "status": "unmappable",
                "http_status": 422,
                "quarantine_id": q.quarantine_id,
                "errors": [{"field": "body", "message": m.error}],
            }
    return [results[i] for i in sorted(results)]


async def receive(
    rt: Runtime,
    uow: UnitOfWork,
    source: service.SourceInfo,
    request: Request,
    raw: bytes,
    token: str | None,
    check_limits: Any,
) -> Response:
    adapter = adapter_of(source.kind)
    delivery = Delivery(
        method=request.method,
        url=public_url(rt, request),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=raw,
        now=time.time(),
        path_token=token,
    )
    try:
        adapter.authenticate(delivery, credentials(source))
    except Refused as exc:
        # Unauthenticated: refused and never stored.
        WEBHOOKS.labels(source.kind, "refused").inc()
        raise Problem(
            401, "Unauthorized", f"{source.kind} delivery refused: {exc}", kind="bad-signature"
        ) from exc
    check_limits(source)
    await uow.set_tenant(source.tenant_id)
    try:
        payload = adapter.decode(delivery)
    except Malformed as exc:
        q = service.quarantine(
            uow,
            source,
            reason="malformed_body",
            body=raw.decode("utf-8", errors="replace"),
            detail={"error": str(exc), "stage": "vendor_body"},
        )
        await uow.session.flush()
        if source.kind == "salesforce":
            # Stored in quarantine: acknowledged, or Salesforce would retry it for a day.
            status, media, body = adapter.respond(True)
            return Response(body, status_code=status, media_type=media)
        raise Problem(
            422,
            "Malformed body",
            f"the {source.kind} body could not be read: {exc}",
            kind="malformed-body",
            errors=[{"field": "body", "message": str(exc)}],
            quarantine_id=q.quarantine_id,
        ) from exc
    state = await load_state(uow, source, set(adapter.objects(payload)))
    mapped = to_events(adapter, source, payload, state)
    await save_state(uow, source, state)
    results = await ingest_mapped(uow, source, payload, mapped, rt.settings.pseudonym_key)
    if source.kind == "salesforce":
        status, media, body = adapter.respond(True)
        return Response(body, status_code=status, media_type=media)
    summary = {
        "accepted": sum(r["status"] == "accepted" for r in results),
        "duplicates": sum(r["status"] == "duplicate" for r in results),
        "quarantined": sum(r.get("quarantine_id") is not None for r in results),
        "ignored": sum(r["status"] == "ignored" for r in results),
        "results": results,
    }
    return JSONResponse(summary, status_code=207)


async def replay_item(
    uow: UnitOfWork, row: Quarantine, actor: str, pseudonym_key: str | None
) -> Outcome:
    """Map a quarantined vendor item again (its mapping or the CRM state may have been fixed)."""
    if row.status == "replayed":
        return Outcome(status="duplicate", http_status=202, event_id=row.event_id)
    source = await service.source_info(uow.session, row.tenant_id, row.source_id)
    if source is None or source.kind not in KINDS:
        return Outcome(
            status="invalid",
            http_status=422,
            errors=[{"field": "source_id", "message": "the source is gone"}],
        )
    adapter = adapter_of(source.kind)
    payload = json.loads(row.body)
    state = await load_state(uow, source, set(adapter.objects(payload)))
    index = row.detail.get("index", 0)
    mapped = [m for m in to_events(adapter, source, payload, state) if m.index == index]
    await save_state(uow, source, state)
    if not mapped or (mapped[0].event is None and mapped[0].error is None):
        return Outcome(
            status="invalid",
            http_status=422,
            errors=[{"field": "body", "message": "maps to nothing now"}],
        )
    if mapped[0].event is None:
        return Outcome(
            status="invalid",
            http_status=422,
            errors=[{"field": "body", "message": mapped[0].error}],
        )
    (outcome,) = await service.accept_events(
        uow, source, [mapped[0].event], pseudonym_key=pseudonym_key, keep_failures=False
    )
    if outcome.status in ("accepted", "duplicate"):
        row.status = "replayed"
        row.resolved_by = actor
        row.resolved_at = func.now()  # type: ignore[assignment]
        row.event_id = outcome.event_id
        await uow.session.flush()
    return outcome
