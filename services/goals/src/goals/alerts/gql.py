"""New alerts as they are raised, over GraphQL subscriptions (graphql-transport-ws)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from datetime import UTC, date, datetime, timedelta

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON
from strawberry.types import Info

from goals.alerts.service import NOTIFY_CHANNEL
from goals.models import Alert, org
from shared.auth.access import may_see_owner
from shared.db.uow import tenant_session
from shared.graphql import Context


@strawberry.type(description="An early warning")
class AlertItem:
    alert_id: uuid.UUID
    rule: str
    status: str
    severity: str
    person_id: str | None
    team_id: str | None
    metric: str | None
    period: str | None
    figures: JSON
    evidence_requested: bool
    opened_at: datetime


def item(a: Alert) -> AlertItem:
    return AlertItem(
        alert_id=a.alert_id,
        rule=a.rule,
        status=a.status,
        severity=a.severity,
        person_id=a.person_id,
        team_id=a.team_id,
        metric=a.metric,
        period=a.period,
        figures=a.figures,
        evidence_requested=a.evidence_requested,
        opened_at=a.opened_at,
    )


@strawberry.type
class AlertsSubscription:
    @strawberry.subscription(description="New alerts of a person or a team, as they are raised")
    async def alerts(
        self,
        info: Info[Context, None],
        person_id: str | None = None,
        team_id: str | None = None,
    ) -> AsyncGenerator[AlertItem]:
        who = info.context.principal
        rt = info.context.runtime
        today = datetime.now(UTC).date()
        if person_id is None and team_id is None:
            person_id = who.subject
        kind, owner = ("person", person_id) if person_id else ("team", team_id)
        assert owner is not None
        if not await may_see_owner(rt, who, kind, owner, date(2000, 1, 1), today):
            raise PermissionError("you may only follow your own alerts, or your teams'")
        since = datetime.now(UTC) - timedelta(seconds=1)
        seen: set[uuid.UUID] = set()
        while True:
            async with tenant_session(rt.sessions, who.tenant_id) as session:
                query = select(Alert).where(
                    Alert.tenant_id == who.tenant_id, Alert.opened_at >= since
                )
                if person_id:
                    query = query.where(Alert.person_id == person_id)
                else:
                    m = org.memberships.c
                    members = select(m.person_id).where(
                        m.tenant_id == who.tenant_id, m.team_id == team_id
                    )
                    query = query.where((Alert.team_id == team_id) | Alert.person_id.in_(members))
                fresh = [
                    a
                    for a in await session.scalars(query.order_by(Alert.opened_at))
                    if a.alert_id not in seen
                ]
            for a in fresh:
                seen.add(a.alert_id)
                yield item(a)
            await rt.notifier.wait(NOTIFY_CHANNEL, 1.0)
