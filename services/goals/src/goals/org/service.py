"""Reporting lines: apply a change to goals' own tables, audit it, announce it on goals.org.v1.

A change that reaches back into recorded history (a move dated in the past, a team moved under
another region) re-derives the tenant's totals from the system of record in the same
transaction, so team and company figures always follow the org as it was on each event's day."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import cast, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from goals.models import Fact, audit_log, org
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
    uow: UnitOfWork,
    actor: str,
    event: EventBase,
    apply: Apply,
    target_type: str,
    target_key: str,
    before: dict[str, Any] | None = None,
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
        before=before,
        after=event.payload.model_dump(mode="json"),  # type: ignore[attr-defined]
    )
    uow.emit(event)


async def history_since(
    session: AsyncSession, tenant_id: uuid.UUID, day: date, person_id: str | None = None
) -> bool:
    """Are there recorded activities (of the person) on or after the day?"""
    query = (
        select(func.count())
        .select_from(Fact)
        .where(Fact.tenant_id == tenant_id, Fact.local_day >= day)
    )
    if person_id is not None:
        credited = Fact.body.op("@>")(cast({"credit_split": [{"actor_id": person_id}]}, JSONB))
        query = query.where(or_(Fact.actor_id == person_id, credited))
    return bool(await session.scalar(query.limit(1)))


async def rebuild_totals(uow: UnitOfWork, tenant_id: uuid.UUID) -> None:
    from goals.totals.replay import rebuild

    await rebuild(uow, tenant_id)


async def save_team(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    actor: str,
    team_id: str,
    fields: dict[str, Any],
    *,
    rebuild: bool = True,
) -> bool:
    """Returns whether recorded history is affected (the caller rebuilds when rebuild=False)."""
    t = org.teams.c
    prior = (
        await uow.session.execute(
            select(t.name, t.parent_team_id, t.manager_id).where(
                t.tenant_id == tenant_id, t.team_id == team_id
            )
        )
    ).one_or_none()
    event = new_event(
        TeamSet,
        tenant_id=tenant_id,
        key=f"{tenant_id}:team:{team_id}",
        occurred_at=datetime.now(UTC),
        payload=TeamSetPayload(team_id=team_id, **fields),
    )
    before = None if prior is None else dict(prior._mapping)
    await _change(uow, actor, event, set_team, "team", team_id, before)
    moved = prior is not None and prior.parent_team_id != event.payload.parent_team_id
    affected = moved and await history_since(uow.session, tenant_id, date.min)
    if affected and rebuild:
        await rebuild_totals(uow, tenant_id)
    return affected


async def save_membership(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    actor: str,
    person_id: str,
    team_id: str,
    valid_from: date,
    *,
    rebuild: bool = True,
) -> bool:
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
    affected = await history_since(uow.session, tenant_id, valid_from, person_id)
    if affected and rebuild:
        await rebuild_totals(uow, tenant_id)
    return affected
