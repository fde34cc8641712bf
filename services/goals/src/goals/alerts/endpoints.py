"""Early warnings over REST: thresholds, alerts and their lifecycle, evidence, channels."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from goals.alerts import service
from goals.alerts.rules import Thresholds
from goals.models import (
    Alert,
    AlertEvidence,
    AlertSettings,
    Channel,
    Delivery,
    DeliveryAttempt,
    audit_log,
    messaging,
)
from shared.auth.access import may_see_owner, principal, requires
from shared.auth.tokens import Principal
from shared.db import audit
from shared.db.uow import tenant_session, unit_of_work
from shared.http.problems import Problem, invalid_field
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["early warning"])
MANAGERS = ("admin", "hr", "manager")


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    thresholds: Thresholds = Field(default_factory=Thresholds)
    locale: Literal["zh", "en"] = "zh"
    link_base: str | None = Field(default=None, description="the front end's alert page base URL")


@router.get("/v1/alerts/settings", response_model=SettingsIn)
async def get_settings(
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> SettingsIn:
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        row = await session.scalar(
            select(AlertSettings).where(AlertSettings.tenant_id == who.tenant_id)
        )
    if row is None:
        return SettingsIn()
    return SettingsIn(
        thresholds=Thresholds.model_validate(row.thresholds),
        locale=row.locale,
        link_base=row.link_base,
    )  # type: ignore[arg-type]


@router.put("/v1/alerts/settings", response_model=SettingsIn)
async def put_settings(
    body: SettingsIn,
    who: Annotated[Principal, Depends(requires("admin", "hr"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> SettingsIn:
    """The tenant's thresholds (pace 90% after 20%, late 24 h, stalled 14 days, burst, follow-ups,
    spike / drop 50%), the message language and the front end's link."""
    values = {
        "thresholds": body.thresholds.model_dump(mode="json"),
        "locale": body.locale,
        "link_base": body.link_base,
        "updated_by": who.subject,
    }
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        stmt = pg_insert(AlertSettings).values(tenant_id=who.tenant_id, **values)
        await uow.session.execute(
            stmt.on_conflict_do_update(index_elements=[AlertSettings.tenant_id], set_=values)
        )
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="alert_settings.set",
            target_type="alert_settings",
            target_key="thresholds",
            before=None,
            after=values["thresholds"],
        )
    return body


async def visible_alert(rt: Runtime, who: Principal, alert: Alert | None) -> Alert:
    if alert is None:
        raise Problem(404, "Not found", "no such alert")
    owner_kind, owner = ("person", alert.person_id) if alert.person_id else ("team", alert.team_id)
    today = datetime.now(UTC).date()
    if owner is None or not await may_see_owner(
        rt, who, owner_kind, owner, date(2000, 1, 1), today
    ):
        if not who.has("admin", "hr", "finance"):
            raise Problem(404, "Not found", "no such alert")
    return alert


@router.get("/v1/alerts")
async def list_alerts(
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
    person_id: str | None = None,
    team_id: str | None = None,
    rule: str | None = None,
    status: Annotated[
        str | None, Query(pattern="^(open|acknowledged|resolved|active)$")
    ] = "active",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Alerts by person / team / rule; ``status=active`` (open or acknowledged) by default,
    ``resolved`` for history. A rep sees their own; a manager their teams'."""
    if not person_id and not team_id and not who.has("admin", "hr", "finance"):
        person_id = who.subject
    today = datetime.now(UTC).date()
    if person_id and not await may_see_owner(rt, who, "person", person_id, date(2000, 1, 1), today):
        raise Problem(403, "Forbidden", "you may only see your own alerts, or your teams'")
    if team_id and not await may_see_owner(rt, who, "team", team_id, today, today):
        raise Problem(403, "Forbidden", "you may only see your own alerts, or your teams'")
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        query = select(Alert).where(Alert.tenant_id == who.tenant_id)
        if person_id:
            query = query.where(Alert.person_id == person_id)
        if team_id:
            from goals.models import org

            m = org.memberships.c
            members = select(m.person_id).where(m.tenant_id == who.tenant_id, m.team_id == team_id)
            query = query.where((Alert.team_id == team_id) | Alert.person_id.in_(members))
        if rule:
            query = query.where(Alert.rule == rule)
        if status == "active":
            query = query.where(Alert.status != "resolved")
        elif status:
            query = query.where(Alert.status == status)
        rows = await session.scalars(query.order_by(Alert.opened_at.desc()).limit(limit))
        return [service.as_dict(a) for a in rows]


class Transition(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


async def _move(
    alert_id: uuid.UUID, to: str, body: Transition, who: Principal, rt: Runtime
) -> dict[str, Any]:
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        alert = await visible_alert(
            rt, who, await uow.session.get(Alert, alert_id, with_for_update=True)
        )
        await service.transition(uow, alert, to, who.subject, body.reason)
        return service.as_dict(alert)


@router.post("/v1/alerts/{alert_id}/acknowledge")
async def acknowledge(
    alert_id: uuid.UUID,
    body: Transition,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """open → acknowledged (who and when)."""
    return await _move(alert_id, "acknowledged", body, who, rt)


@router.post("/v1/alerts/{alert_id}/resolve")
async def resolve(
    alert_id: uuid.UUID,
    body: Transition,
    who: Annotated[Principal, Depends(requires(*MANAGERS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """→ resolved by a person, with a reason (alerts whose cause clears resolve themselves)."""
    return await _move(alert_id, "resolved", body, who, rt)


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)
    link: str | None = Field(default=None, max_length=2000, description="a link or file reference")


@router.post("/v1/alerts/{alert_id}/evidence", status_code=201)
async def submit_evidence(
    alert_id: uuid.UUID,
    body: EvidenceIn,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """The person attaches evidence to an alert that asks for it (anomalies)."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        alert = await visible_alert(rt, who, await uow.session.get(Alert, alert_id))
        if not alert.evidence_requested:
            raise Problem(
                409,
                "No evidence requested",
                "this alert does not ask for evidence",
                kind="conflict",
            )
        evidence = AlertEvidence(
            evidence_id=uuid.uuid4(),
            tenant_id=who.tenant_id,
            alert_id=alert_id,
            text=body.text,
            link=body.link,
            submitted_by=who.subject,
        )
        uow.session.add(evidence)
        await uow.session.flush()
        return {"evidence_id": str(evidence.evidence_id), "alert_id": str(alert_id)}


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept: bool
    reason: str = Field(min_length=1, max_length=2000)
    exclude_activities: list[str] = Field(
        default_factory=list,
        description="rejected: ids of the activities (of the alert's source) to take out of the totals",
    )
    source_id: uuid.UUID | None = None


@router.post("/v1/alerts/{alert_id}/evidence/{evidence_id}/decide")
async def decide_evidence(
    alert_id: uuid.UUID,
    evidence_id: uuid.UUID,
    body: DecisionIn,
    who: Annotated[Principal, Depends(requires(*MANAGERS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """A manager accepts or rejects the evidence. Rejected data can be excluded from the totals:
    each named activity is deleted by a correction (audited, with the reason), so the figures
    follow at once and a replay gives the same."""
    from goals.ingest.service import accept_events, source_info

    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        alert = await visible_alert(rt, who, await uow.session.get(Alert, alert_id))
        evidence = await uow.session.get(AlertEvidence, evidence_id, with_for_update=True)
        if evidence is None or evidence.alert_id != alert.alert_id:
            raise Problem(404, "Not found", "no such evidence")
        if evidence.submitted_by == who.subject:
            raise Problem(403, "Forbidden", "evidence is decided by someone other than its author")
        evidence.decision = "accepted" if body.accept else "rejected"
        evidence.decided_by = who.subject
        evidence.decided_at = datetime.now(UTC)
        evidence.reason = body.reason
        excluded: list[str] = []
        if not body.accept and body.exclude_activities:
            if body.source_id is None:
                raise invalid_field("source_id", "required with exclude_activities")
            source = await source_info(uow.session, who.tenant_id, body.source_id)
            if source is None:
                raise Problem(404, "Not found", "no such source")
            now = datetime.now(UTC).isoformat()
            corrections = [
                {
                    "id": f"excluded:{alert.alert_id}:{activity_id}",
                    "type": "record_deleted",
                    "refers_to": activity_id,
                    "occurred_at": now,
                    "actor_id": alert.person_id or who.subject,
                    "attributes": {
                        "reason": body.reason,
                        "alert_id": str(alert.alert_id),
                        "by": who.subject,
                    },
                }
                for activity_id in body.exclude_activities
            ]
            outcomes = await accept_events(uow, source, corrections, keep_failures=False)
            excluded = [o.id for o in outcomes if o.status in ("accepted", "duplicate") and o.id]
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action=f"evidence.{evidence.decision}",
            target_type="alert",
            target_key=f"{alert.person_id or '-'}/{alert.alert_id}",
            before=None,
            after={"reason": body.reason, "excluded": body.exclude_activities},
        )
        return {"decision": evidence.decision, "excluded": excluded}


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["quotient", "dingtalk", "wecom", "feishu", "slack"]
    url: str = Field(min_length=8, max_length=2000)
    secret: str | None = Field(default=None, max_length=500)
    locale: Literal["zh", "en"] = "zh"


@router.post("/v1/alerts/channels", status_code=201)
async def add_channel(
    body: ChannelIn,
    who: Annotated[Principal, Depends(requires("admin"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """Register where alerts go. The URL is checked now (and again at each delivery): private,
    loopback and link-local targets are refused unless the operator allows them."""
    from goals.alerts.channels import TargetRefused, check_target

    if body.kind in ("quotient", "dingtalk", "feishu") and not body.secret:
        raise invalid_field("secret", "required for this kind")
    try:
        await check_target(body.url, allow_private=rt.settings.outbound_allow_private)
    except TargetRefused as exc:
        raise invalid_field("url", str(exc)) from exc
    channel_id = uuid.uuid4()
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        uow.session.add(
            Channel(
                channel_id=channel_id,
                tenant_id=who.tenant_id,
                kind=body.kind,
                url=body.url,
                secret=body.secret,
                locale=body.locale,
                enabled=True,
                created_by=who.subject,
            )
        )
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="channel.added",
            target_type="channel",
            target_key=str(channel_id),
            before=None,
            after={"kind": body.kind, "url": body.url},
        )
    return {"channel_id": str(channel_id), "kind": body.kind, "url": body.url}


@router.get("/v1/alerts/deliveries")
async def list_deliveries(
    who: Annotated[Principal, Depends(requires("admin"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[dict[str, Any]]:
    """Every delivery with its attempts (status codes; 0 when there was no answer)."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        deliveries = list(
            await session.scalars(
                select(Delivery)
                .where(Delivery.tenant_id == who.tenant_id)
                .order_by(Delivery.created_at)
            )
        )
        attempts: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for a in await session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.tenant_id == who.tenant_id)
            .order_by(DeliveryAttempt.attempt)
        ):
            attempts.setdefault(a.delivery_id, []).append(
                {
                    "attempt": a.attempt,
                    "status_code": a.status_code,
                    "error": a.error,
                    "at": a.attempted_at.isoformat(),
                }
            )
        return [
            {
                "delivery_id": str(d.delivery_id),
                "alert_id": str(d.alert_id),
                "channel_id": str(d.channel_id),
                "status": d.status,
                "attempts": attempts.get(d.delivery_id, []),
            }
            for d in deliveries
        ]


@router.get("/v1/alerts/{alert_id}")
async def get_alert(
    alert_id: uuid.UUID,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """One alert with its evidence and the delivery of its notifications."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        alert = await visible_alert(rt, who, await session.get(Alert, alert_id))
        evidence = await session.scalars(
            select(AlertEvidence)
            .where(AlertEvidence.alert_id == alert_id)
            .order_by(AlertEvidence.submitted_at)
        )
        deliveries = await session.scalars(select(Delivery).where(Delivery.alert_id == alert_id))
        return service.as_dict(alert) | {
            "evidence": [
                {
                    "evidence_id": str(e.evidence_id),
                    "text": e.text,
                    "link": e.link,
                    "submitted_by": e.submitted_by,
                    "decision": e.decision,
                    "decided_by": e.decided_by,
                    "reason": e.reason,
                }
                for e in evidence
            ],
            "deliveries": [
                {
                    "delivery_id": str(d.delivery_id),
                    "channel_id": str(d.channel_id),
                    "status": d.status,
                    "attempts": d.attempts,
                    "last_status": d.last_status,
                }
                for d in deliveries
            ],
        }
