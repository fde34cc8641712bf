"""Alerts: raised once per cause, carrying their figures; open → acknowledged → resolved (by a
person, or by the system when the cause clears); announced on goals.alerts.v1, pushed to
subscribers (NOTIFY) and queued for the tenant's channels."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from goals.alerts import repository
from goals.alerts.rules import Finding, Thresholds, outlived
from goals.models import Alert, AlertSettings, Channel, Delivery, audit_log
from shared.db import audit
from shared.db.uow import UnitOfWork
from shared.events.envelope import AlertChanged, AlertPayload, new_event
from shared.periods import parse_period

NOTIFY_CHANNEL = "quotient_alerts"


async def thresholds_of(session: AsyncSession, tenant_id: uuid.UUID) -> Thresholds:
    row = await session.scalar(select(AlertSettings).where(AlertSettings.tenant_id == tenant_id))
    return Thresholds() if row is None else Thresholds.model_validate(row.thresholds)


def as_dict(alert: Alert) -> dict[str, Any]:
    return {
        "alert_id": str(alert.alert_id),
        "rule": alert.rule,
        "subject": alert.subject,
        "status": alert.status,
        "severity": alert.severity,
        "person_id": alert.person_id,
        "team_id": alert.team_id,
        "metric": alert.metric,
        "period": alert.period,
        "figures": alert.figures,
        "evidence_requested": alert.evidence_requested,
        "opened_at": alert.opened_at.isoformat() if alert.opened_at else None,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "resolved_by": alert.resolved_by,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "resolution": alert.resolution,
    }


def announce(uow: UnitOfWork, alert: Alert) -> None:
    uow.emit(
        new_event(
            AlertChanged,
            tenant_id=alert.tenant_id,
            key=f"{alert.tenant_id}:alert:{alert.rule}:{alert.subject}",
            occurred_at=datetime.now(UTC),
            payload=AlertPayload(
                alert_id=alert.alert_id,
                rule=alert.rule,
                subject=alert.subject,
                status=alert.status,  # type: ignore[arg-type]
                severity=alert.severity,
                person_id=alert.person_id,
                team_id=alert.team_id,
                metric=alert.metric,
                period=alert.period,
                figures=alert.figures,
                evidence_requested=alert.evidence_requested,
                resolution=alert.resolution,
            ),
        )
    )


async def raise_alert(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    finding: Finding,
    *,
    person_id: str | None,
    team_id: str | None = None,
    metric: str | None = None,
    period: str | None = None,
) -> Alert | None:
    """Open an alert for the cause unless one is open already (then its figures are refreshed).
    Returns the new alert, or None when the cause already had one."""
    session = uow.session
    alert_id = uuid.uuid4()
    stmt = (
        pg_insert(Alert)
        .values(
            alert_id=alert_id,
            tenant_id=tenant_id,
            rule=finding.rule,
            subject=finding.subject,
            person_id=person_id,
            team_id=team_id,
            metric=metric,
            period=period,
            severity=finding.severity,
            figures=finding.figures,
            evidence_requested=finding.evidence_requested,
            status="open",
        )
        .on_conflict_do_nothing(
            index_elements=[Alert.tenant_id, Alert.rule, Alert.subject],
            index_where=text("status <> 'resolved'"),
        )
        .returning(Alert.alert_id)
    )
    inserted = (await session.execute(stmt)).scalar_one_or_none()
    if inserted is None:
        current = await session.scalar(
            select(Alert).where(
                Alert.tenant_id == tenant_id,
                Alert.rule == finding.rule,
                Alert.subject == finding.subject,
                Alert.status != "resolved",
            )
        )
        if current is not None and (
            current.figures != finding.figures or current.severity != finding.severity
        ):
            current.figures = finding.figures
            current.severity = finding.severity
        return None
    alert = await session.get(Alert, alert_id)
    assert alert is not None
    await session.refresh(alert)
    announce(uow, alert)
    channels = await session.scalars(
        select(Channel.channel_id).where(Channel.tenant_id == tenant_id, Channel.enabled)
    )
    for channel_id in channels:
        session.add(
            Delivery(
                delivery_id=uuid.uuid4(),
                tenant_id=tenant_id,
                channel_id=channel_id,
                alert_id=alert_id,
                event="raised",
                status="pending",
                attempts=0,
            )
        )
    await session.execute(
        text("SELECT pg_notify(:c, :t)"), {"c": NOTIFY_CHANNEL, "t": str(tenant_id)}
    )
    return alert


async def clear(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    rule: str,
    subject: str,
    figures: dict[str, Any] | None = None,
) -> Alert | None:
    """The cause went away (pace recovered, the deal moved): the open alert resolves itself."""
    alert = await uow.session.scalar(
        select(Alert)
        .where(
            Alert.tenant_id == tenant_id,
            Alert.rule == rule,
            Alert.subject == subject,
            Alert.status != "resolved",
        )
        .with_for_update()
    )
    if alert is None:
        return None
    alert.status = "resolved"
    alert.resolved_by = "system"
    alert.resolved_at = datetime.now(UTC)
    alert.resolution = "cleared"
    if figures:
        alert.figures = {**alert.figures, "at_resolution": figures}
    announce(uow, alert)
    await uow.session.execute(
        text("SELECT pg_notify(:c, :t)"), {"c": NOTIFY_CHANNEL, "t": str(tenant_id)}
    )
    return alert


async def resolve_outlived(
    uow: UnitOfWork, tenant_id: uuid.UUID, today: date, fiscal_start: int
) -> list[Alert]:
    """Resolve the open alerts whose period has been closed, or has ended for a rule that only
    makes sense while the period runs (``rules.outlived``), with the reason as the resolution.
    Returns the alerts resolved."""
    spans = await repository.closed_spans(uow.session, tenant_id)
    done: list[Alert] = []
    for alert in await repository.open_alerts_with_a_period(uow.session, tenant_id):
        try:
            p = parse_period(alert.period or "", fiscal_start)
        except ValueError:
            continue  # a period label this calendar cannot read: left for a person to judge
        closed = any(start <= p.start and p.end <= end for start, end in spans)
        reason = outlived(alert.rule, p.end, today, closed=closed)
        if reason is None:
            continue
        alert.status = "resolved"
        alert.resolved_by = "system"
        alert.resolved_at = datetime.now(UTC)
        alert.resolution = reason
        alert.figures = {
            **alert.figures,
            "at_resolution": {"reason": reason, "period_end": p.end.isoformat()},
        }
        announce(uow, alert)
        done.append(alert)
    if done:
        await uow.session.execute(
            text("SELECT pg_notify(:c, :t)"), {"c": NOTIFY_CHANNEL, "t": str(tenant_id)}
        )
    return done


async def transition(
    uow: UnitOfWork, alert: Alert, to: str, actor: str, reason: str | None = None
) -> Alert:
    """open → acknowledged → resolved (or open → resolved), with who and when; audited."""
    allowed = {
        "open": {"acknowledged", "resolved"},
        "acknowledged": {"resolved"},
        "resolved": set(),
    }
    if to not in allowed[alert.status]:
        from shared.http.problems import Problem

        raise Problem(
            409, "Conflict", f"an {alert.status} alert cannot become {to}", kind="conflict"
        )
    before = alert.status
    now = datetime.now(UTC)
    alert.status = to
    if to == "acknowledged":
        alert.acknowledged_by, alert.acknowledged_at = actor, now
    else:
        alert.resolved_by, alert.resolved_at, alert.resolution = actor, now, reason or "resolved"
    await audit.record(
        uow.session,
        audit_log,
        tenant_id=alert.tenant_id,
        actor=actor,
        action=f"alert.{to}",
        target_type="alert",
        target_key=f"{alert.person_id or '-'}/{alert.alert_id}",
        before={"status": before},
        after={"status": to, "reason": reason},
    )
    announce(uow, alert)
    return alert
