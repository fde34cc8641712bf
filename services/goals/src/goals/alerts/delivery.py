"""Outbound alert deliveries: each pending delivery is posted to its channel in the channel's
format, signed, to the registered URL only (re-checked at every attempt), retried with
exponential backoff, and every attempt is recorded with its status code."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from goals.alerts import channels
from goals.alerts.service import as_dict
from goals.models import Alert, AlertSettings, Channel, Delivery, DeliveryAttempt, messaging
from shared.db.uow import unit_of_work
from shared.runtime import Runtime
from shared.tasks import Periodic

log = logging.getLogger(__name__)
WAKE = "quotient_alerts"
BATCH = 50


async def deliver_due(rt: Runtime) -> int:
    """Deliver what is due now; returns how many attempts were made."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.system()
        due = list(
            (
                await uow.session.execute(
                    select(Delivery.delivery_id, Delivery.tenant_id)
                    .where(
                        Delivery.status == "pending", Delivery.next_attempt_at <= datetime.now(UTC)
                    )
                    .order_by(Delivery.next_attempt_at)
                    .limit(BATCH)
                )
            ).all()
        )
    made = 0
    for delivery_id, tenant_id in due:
        async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
            await uow.set_tenant(tenant_id)
            session = uow.session
            # One deliverer per delivery at a time; the others skip it.
            delivery = await session.scalar(
                select(Delivery)
                .where(Delivery.delivery_id == delivery_id, Delivery.status == "pending")
                .with_for_update(skip_locked=True)
            )
            if delivery is None:
                continue
            channel = await session.get(Channel, delivery.channel_id)
            alert = await session.get(Alert, delivery.alert_id)
            settings = await session.scalar(
                select(AlertSettings).where(AlertSettings.tenant_id == tenant_id)
            )
            if channel is None or alert is None or not channel.enabled:
                delivery.status = "failed"
                continue
            body = as_dict(alert)
            if settings is not None and settings.link_base:
                body["link"] = f"{settings.link_base.rstrip('/')}/{alert.alert_id}"
            status, error = 0, None
            try:
                await channels.check_target(
                    channel.url, allow_private=rt.settings.outbound_allow_private
                )
                outbound = channels.build(
                    channel.kind,  # type: ignore[arg-type]
                    channel.url,
                    channel.secret or "",
                    body,
                    now=time.time(),
                    locale=channel.locale,
                )
                status = await channels.post(outbound)
            except channels.TargetRefused as exc:
                error = f"refused: {exc}"
            except Exception as exc:  # a channel problem must not stop the others
                error = f"{type(exc).__name__}: {exc}"
            delivery.attempts += 1
            delivery.last_status = status
            session.add(
                DeliveryAttempt(
                    tenant_id=tenant_id,
                    delivery_id=delivery.delivery_id,
                    attempt=delivery.attempts,
                    status_code=status,
                    error=error,
                )
            )
            made += 1
            if 200 <= status < 300:
                delivery.status = "delivered"
            else:
                delay = channels.next_attempt_delay(delivery.attempts)
                if delay is None or (error or "").startswith("refused"):
                    delivery.status = "failed"
                else:
                    scaled = delay * rt.settings.outbound_backoff_scale
                    delivery.next_attempt_at = datetime.now(UTC) + timedelta(seconds=scaled)
    return made


def deliverer(rt: Runtime) -> Periodic:
    return Periodic(
        "alert deliveries",
        1.0,
        lambda: deliver_due(rt),
        notifier=rt.notifier,
        wake_on=WAKE,
    )
