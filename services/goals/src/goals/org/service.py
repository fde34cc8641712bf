"""Reporting lines: apply a change to goals' own tables, audit it, announce it on goals.org.v1."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from goals.models import audit_log, org
from shared.db import audit
from shared.db.uow import UnitOfWork
from shared.events.envelope import (
    EventBase,
    MembershipSet,
    MembershipSetPayload,
    TeamSet,
    TeamSetPayload,
    new_event,
    person_key,
)
from shared.org import OrgTables, set_membership, set_team

Apply = Callable[[AsyncSession, OrgTables, uuid.UUID, Any], Awaitable[None]]


async def _change(
    uow: UnitOfWork, actor: str, event: EventBase, apply: Apply, target_type: str, target_key: str
) -> None:
    await apply(uow.session, org, event.tenant_id, event)
    await audit.record(
        uow.session,
        audit_log,
        tenant_id=event.tenant_id,
        actor=actor,
        action=f"{target_type}.set",
        target_type=target_type,
        target_key=target_key,
        before=None,
        after=event.payload.model_dump(mode="json"),  # type: ignore[attr-defined]
    )
    uow.emit(event)


async def save_team(
    uow: UnitOfWork, tenant_id: uuid.UUID, actor: str, team_id: str, fields: dict[str, Any]
) -> None:
    event = new_event(
        TeamSet,
        tenant_id=tenant_id,
        key=f"{tenant_id}:team:{team_id}",
        occurred_at=datetime.now(UTC),
        payload=TeamSetPayload(team_id=team_id, **fields),
    )
    await _change(uow, actor, event, set_team, "team", team_id)


async def save_membership(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    actor: str,
    person_id: str,
    team_id: str,
    valid_from: date,
) -> None:
    event = new_event(
        MembershipSet,
        tenant_id=tenant_id,
        key=person_key(tenant_id, person_id),
        occurred_at=datetime.now(UTC),
        payload=MembershipSetPayload(person_id=person_id, team_id=team_id, valid_from=valid_from),
    )
    await _change(
        uow, actor, event, set_membership, "membership", f"{person_id}/{valid_from.isoformat()}"
    )
