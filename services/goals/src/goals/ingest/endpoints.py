"""Webhooks, sources and quarantine over REST."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from goals.ingest import backfill, service, vendors
from goals.ingest.schemas import (
    AliasIn,
    AliasOut,
    BatchResult,
    Outcome,
    QuarantineOut,
    ReplayIn,
    RotateIn,
    SourceCreate,
    SourceCreated,
)
from goals.models import Backfill, PersonAlias, Quarantine, Source, audit_log, messaging
from shared.auth.access import requires
from shared.auth.tokens import Principal
from shared.db import audit
from shared.db.uow import tenant_session, unit_of_work
from shared.events.activity import ActivityEvent
from shared.http.problems import Problem, problem_response
from shared.http.ratelimit import RateLimiter
from shared.observability.metrics import WEBHOOKS
from shared.runtime import Runtime
from shared.service import runtime_of
from shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify

router = APIRouter(tags=["ingest"])


def webhook_limits(rt: Runtime) -> tuple[RateLimiter, RateLimiter]:
    """Per source and per tenant; counted after the signature verified (forgers spend nothing)."""
    limits = rt.extras.get("webhook_limits")
    if limits is None:
        s = rt.settings
        limits = rt.extras["webhook_limits"] = (
            RateLimiter(s.webhook_rate_per_source, s.webhook_burst_per_source),
            RateLimiter(s.webhook_rate_per_tenant, s.webhook_burst_per_tenant),
        )
    return limits  # type: ignore[return-value]


def webhook_url(rt: Runtime, source_id: uuid.UUID, kind: str = "generic", secret: str = "") -> str:
    base = f"{rt.settings.public_base_url.rstrip('/')}/v1/webhooks/{source_id}"
    # Salesforce signs nothing: a secret token in the path authenticates it (with its org id).
    return f"{base}/{secret or '{token}'}" if kind == "salesforce" else base


@router.post("/v1/sources", status_code=201, response_model=SourceCreated)
async def create_source(
    body: SourceCreate,
    who: Annotated[Principal, Depends(requires("admin"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> SourceCreated:
    """Register a webhook source; the answer shows its secret once."""
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        source = await service.create_source(
            uow.session,
            who.tenant_id,
            kind=body.kind,
            name=body.name,
            secret=body.secret,
            settings=body.settings,
        )
        return SourceCreated(
            source_id=source.source_id,
            tenant_id=source.tenant_id,
            kind=source.kind,
            name=source.name,
            webhook_url=webhook_url(rt, source.source_id, source.kind, source.secret),
            secret=source.secret,
        )


class SourceOut(BaseModel):
    source_id: uuid.UUID
    kind: str
    name: str
    webhook_url: str
    created_at: datetime


@router.get("/v1/sources", response_model=list[SourceOut])
async def list_sources(
    who: Annotated[Principal, Depends(requires("admin", "integration"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[SourceOut]:
    """The tenant's webhook sources, oldest first. Secrets are shown only when created or
    rotated; a Salesforce URL is shown without its secret path token."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = await session.scalars(
            select(Source)
            .where(Source.tenant_id == who.tenant_id)
            .order_by(Source.created_at, Source.source_id)
        )
        return [
            SourceOut(
                source_id=s.source_id,
                kind=s.kind,
                name=s.name,
                webhook_url=webhook_url(rt, s.source_id, s.kind),
                created_at=s.created_at,
            )
            for s in rows
        ]


@router.post("/v1/sources/{source_id}/rotate", response_model=SourceCreated)
async def rotate_secret(
    source_id: uuid.UUID,
    body: RotateIn,
    who: Annotated[Principal, Depends(requires("admin"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> SourceCreated:
    """A new secret (given, e.g. HubSpot's new app secret, or generated); the old one keeps
    verifying for ``grace_seconds`` so senders can switch without losing a delivery."""
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        source = await service.rotate_secret(
            uow.session,
            who.tenant_id,
            source_id,
            actor=who.subject,
            grace_seconds=body.grace_seconds,
            secret=body.secret,
        )
        if source is None:
            raise Problem(404, "Not found", "no such webhook source")
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="source.secret_rotated",
            target_type="source",
            target_key=str(source_id),
            before=None,
            after={"grace_seconds": body.grace_seconds},
        )
        return SourceCreated(
            source_id=source.source_id,
            tenant_id=source.tenant_id,
            kind=source.kind,
            name=source.name,
            webhook_url=webhook_url(rt, source.source_id, source.kind, source.secret),
            secret=source.secret,
        )


@router.put("/v1/sources/{source_id}/aliases/{alias}", response_model=AliasOut)
async def put_alias(
    source_id: uuid.UUID,
    alias: Annotated[str, PathParam(min_length=1, max_length=200)],
    body: AliasIn,
    who: Annotated[Principal, Depends(requires("admin", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> AliasOut:
    """How this source names a person (a HubSpot owner id, a Salesforce user id...). Events that
    were quarantined for naming them are replayed at once."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        if await service.source_info(uow.session, who.tenant_id, source_id) is None:
            raise Problem(404, "Not found", "no such webhook source")
        stmt = pg_insert(PersonAlias).values(
            tenant_id=who.tenant_id, source_id=source_id, alias=alias, person_id=body.person_id
        )
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[PersonAlias.tenant_id, PersonAlias.source_id, PersonAlias.alias],
                set_={"person_id": body.person_id, "updated_at": func.now()},
            )
        )
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="alias.set",
            target_type="alias",
            target_key=f"{body.person_id}/{source_id}/{alias}",
            before=None,
            after={"person_id": body.person_id},
        )
        await service.replay_unknown_actors(
            uow, who.tenant_id, who.subject, rt.settings.pseudonym_key
        )
    return AliasOut(source_id=source_id, alias=alias, person_id=body.person_id)


@router.get("/v1/sources/{source_id}/aliases", response_model=list[AliasOut])
async def list_aliases(
    source_id: uuid.UUID,
    who: Annotated[Principal, Depends(requires("admin", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[AliasOut]:
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = await session.scalars(
            select(PersonAlias)
            .where(PersonAlias.tenant_id == who.tenant_id, PersonAlias.source_id == source_id)
            .order_by(PersonAlias.alias)
        )
        return [AliasOut.model_validate(r, from_attributes=True) for r in rows]


@router.post("/v1/quarantine/{quarantine_id}/replay", response_model=Outcome)
async def replay_quarantined(
    quarantine_id: int,
    body: ReplayIn,
    who: Annotated[Principal, Depends(requires("admin", "integration"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> JSONResponse:
    """Run a quarantined event through ingestion again — as stored (e.g. once its actor exists)
    or as fixed. A replayed row yields exactly one event, however often it is replayed."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        row = await uow.session.scalar(
            select(Quarantine)
            .where(Quarantine.tenant_id == who.tenant_id, Quarantine.quarantine_id == quarantine_id)
            .with_for_update()
        )
        if row is None:
            raise Problem(404, "Not found", f"no quarantined payload {quarantine_id}")
        if row.detail.get("stage") == "vendor_item" and body.event is None:
            outcome = await vendors.replay_item(uow, row, who.subject, rt.settings.pseudonym_key)
        else:
            outcome = await service.replay(
                uow, row, who.subject, event=body.event, pseudonym_key=rt.settings.pseudonym_key
            )
    status = 200 if outcome.status in ("accepted", "duplicate") else outcome.http_status
    return JSONResponse(outcome.model_dump(mode="json"), status_code=status)


@router.get("/v1/schemas/activity")
async def activity_schema() -> JSONResponse:
    """The canonical activity event v1 as JSON Schema (the public contract)."""
    return JSONResponse(ActivityEvent.model_json_schema(), media_type="application/schema+json")


@router.get("/v1/quarantine", response_model=list[QuarantineOut])
async def list_quarantine(
    who: Annotated[Principal, Depends(requires("admin", "integration"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[QuarantineOut]:
    """Payloads that were authenticated but could not be accepted, newest first."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = await service.list_quarantine(session, who.tenant_id)
        return [QuarantineOut.model_validate(r, from_attributes=True) for r in rows]


@router.post(
    "/v1/webhooks/{source_id}",
    status_code=202,
    responses={207: {"model": BatchResult}, 401: {}, 404: {}, 409: {}, 413: {}, 422: {}},
)
async def receive_webhook(
    source_id: uuid.UUID, request: Request, rt: Annotated[Runtime, Depends(runtime_of)]
) -> Response:
    """Accept canonical activity events signed with the source's secret (one, or an array); or a
    HubSpot (signature v3), Pipedrive (Basic) or tenant-mapped delivery, by the source's kind."""
    return await _receive(source_id, None, request, rt)


@router.post(
    "/v1/webhooks/{source_id}/{token}",
    responses={200: {"description": "the SOAP Ack"}, 401: {}, 404: {}},
)
async def receive_with_token(
    source_id: uuid.UUID,
    token: str,
    request: Request,
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> Response:
    """Salesforce outbound messages: authenticated by the secret path token and the organisation
    id; answered with the SOAP ``<Ack>true</Ack>``."""
    return await _receive(source_id, token, request, rt)


async def _receive(
    source_id: uuid.UUID, token: str | None, request: Request, rt: Runtime
) -> Response:
    limit = rt.settings.webhook_max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "Payload too large", f"the body is limited to {limit} bytes")
    raw = await request.body()
    if len(raw) > limit:
        raise Problem(413, "Payload too large", f"the body is limited to {limit} bytes")

    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        source = await service.load_source(uow, source_id)
        if source is None:
            raise Problem(404, "Not found", "no such webhook source")
        if source.kind != "generic" or token is not None:
            if source.kind == "generic":
                raise Problem(404, "Not found", "no such webhook source")

            def check_limits(s: service.SourceInfo) -> None:
                limits = webhook_limits(rt)
                limits[0].check(f"source:{s.source_id}", "this webhook source")
                limits[1].check(f"tenant:{s.tenant_id}", "webhooks for this tenant")

            return await vendors.receive(rt, uow, source, request, raw, token, check_limits)
        try:
            verify(
                source.secrets,
                request.headers.get(TIMESTAMP_HEADER),
                request.headers.get(SIGNATURE_HEADER),
                raw,
                tolerance=rt.settings.webhook_tolerance_seconds,
            )
        except SignatureError as exc:
            # Unauthenticated: refused and never stored.
            WEBHOOKS.labels(source.kind, "refused").inc()
            raise Problem(
                401, "Unauthorized", f"webhook signature refused: {exc}", kind="bad-signature"
            ) from exc
        limits = webhook_limits(rt)
        limits[0].check(f"source:{source.source_id}", "this webhook source")
        limits[1].check(f"tenant:{source.tenant_id}", "webhooks for this tenant")
        await uow.set_tenant(source.tenant_id)

        text = raw.decode("utf-8", errors="replace")
        try:
            parsed: Any = json.loads(raw)
        except ValueError as exc:
            q = service.quarantine(
                uow, source, reason="malformed_json", body=text, detail={"error": str(exc)}
            )
            await uow.session.flush()
            problem = Problem(
                422,
                "Malformed body",
                f"the body is not JSON: {exc}",
                kind="malformed-body",
                errors=[{"field": "body", "message": "not valid JSON"}],
                quarantine_id=q.quarantine_id,
            )
            return problem_response(problem, request)
        if isinstance(parsed, list):
            if len(parsed) > service.MAX_BATCH:
                q = service.quarantine(
                    uow,
                    source,
                    reason="batch_too_large",
                    body=text,
                    detail={"events": len(parsed), "limit": service.MAX_BATCH},
                )
                await uow.session.flush()
                return problem_response(
                    Problem(
                        422,
                        "Batch too large",
                        f"at most {service.MAX_BATCH} events per delivery",
                        kind="validation-error",
                        errors=[
                            {
                                "field": "body",
                                "message": f"{len(parsed)} events > {service.MAX_BATCH}",
                            }
                        ],
                        quarantine_id=q.quarantine_id,
                    ),
                    request,
                )
            outcomes = await service.accept_events(
                uow, source, parsed, pseudonym_key=rt.settings.pseudonym_key
            )
            result = BatchResult(
                accepted=sum(o.status == "accepted" for o in outcomes),
                duplicates=sum(o.status == "duplicate" for o in outcomes),
                quarantined=sum(o.quarantine_id is not None for o in outcomes),
                results=outcomes,
            )
            return JSONResponse(result.model_dump(mode="json"), status_code=207)
        if not isinstance(parsed, dict):
            q = service.quarantine(
                uow, source, reason="invalid_event", body=text, detail={"error": "not an object"}
            )
            await uow.session.flush()
            return problem_response(
                Problem(
                    422,
                    "Invalid body",
                    "expected an event object or an array of them",
                    kind="validation-error",
                    errors=[{"field": "body", "message": "expected an object"}],
                    quarantine_id=q.quarantine_id,
                ),
                request,
            )
        (outcome,) = await service.accept_events(
            uow, source, [parsed], pseudonym_key=rt.settings.pseudonym_key
        )
    if outcome.status in ("accepted", "duplicate"):
        return JSONResponse(
            {"status": outcome.status, "id": outcome.id, "event_id": str(outcome.event_id)},
            status_code=202,
        )
    if outcome.status == "conflict":
        problem = Problem(
            409,
            "Conflict",
            "an event with this id and different content was already accepted; "
            "send a record_updated event to change it",
            kind="conflict",
            errors=outcome.errors,
            quarantine_id=outcome.quarantine_id,
        )
    else:
        fields = ", ".join(e["field"] for e in outcome.errors or [])
        problem = Problem(
            422,
            "Invalid event",
            f"Invalid field(s): {fields}",
            kind="validation-error",
            errors=outcome.errors,
            quarantine_id=outcome.quarantine_id,
        )
    return problem_response(problem, request)


class BackfillOut(BaseModel):
    backfill_id: uuid.UUID
    source_id: uuid.UUID
    status: str
    rows_read: int
    accepted: int
    duplicates: int
    quarantined: int
    started_by: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None


@router.post("/v1/sources/{source_id}/backfill", response_model=BackfillOut)
async def post_backfill(
    source_id: uuid.UUID,
    request: Request,
    who: Annotated[Principal, Depends(requires("admin", "integration"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> BackfillOut:
    """Historical activities in bulk: NDJSON (one canonical event per line) or CSV with the
    canonical columns (``customer_id``, ``amount``, ``currency``, ``attributes.<name>``...), streamed
    and applied in chunks of 1,000 with the webhook's validation and idempotency. Progress:
    ``GET /v1/backfills/{id}``. Backfilled activities never raise late-entry alerts."""
    backfill_id = uuid.uuid4()
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        source = await service.source_info(uow.session, who.tenant_id, source_id)
        if source is None:
            raise Problem(404, "Not found", "no such source")
        uow.session.add(
            Backfill(
                backfill_id=backfill_id,
                tenant_id=who.tenant_id,
                source_id=source_id,
                status="running",
                rows_read=0,
                accepted=0,
                duplicates=0,
                quarantined=0,
                started_by=who.subject,
            )
        )
    done = await backfill.run(
        rt, source, backfill_id, request.stream(), request.headers.get("content-type", "")
    )
    return BackfillOut.model_validate(done, from_attributes=True)


@router.get("/v1/backfills/{backfill_id}", response_model=BackfillOut)
async def get_backfill(
    backfill_id: uuid.UUID,
    who: Annotated[Principal, Depends(requires("admin", "integration"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> BackfillOut:
    """A backfill's progress: rows read, accepted, duplicates, quarantined."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        found = await session.get(Backfill, backfill_id)
        if found is None or found.tenant_id != who.tenant_id:
            raise Problem(404, "Not found", f"no backfill {backfill_id}")
        return BackfillOut.model_validate(found, from_attributes=True)
