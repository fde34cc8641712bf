"""People: the external id a CRM credits them by, role, manager, active dates (joiners and
leavers: their targets prorate by active days), and their team from a date on."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from goals.models import Person, audit_log
from goals.org.service import save_membership
from shared.db import audit
from shared.db.uow import UnitOfWork
from shared.events.envelope import PersonSet, PersonSetPayload, new_event, person_key

ROLES = (
    "new_business_rep",
    "account_manager",
    "sales_rep",
    "regional_manager",
    "sales_assistant",
    "manager",
    "hr",
    "finance",
)


async def save_person(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    actor: str,
    person_id: str,
    *,
    name: str,
    role: str,
    email: str | None = None,
    manager_id: str | None = None,
    active_from: date | None = None,
    active_to: date | None = None,
    team_id: str | None = None,
    team_from: date | None = None,
    rebuild: bool = True,
) -> tuple[bool, bool]:
    """Create or change a person (and their team from a date on). Returns (created, whether
    recorded history is affected by a team change)."""
    session = uow.session
    prior = await session.scalar(
        select(Person).where(Person.tenant_id == tenant_id, Person.person_id == person_id)
    )
    values: dict[str, Any] = {
        "name": name,
        "email": email,
        "role": role,
        "manager_id": manager_id,
        "active_from": active_from,
        "active_to": active_to,
    }
    stmt = pg_insert(Person).values(tenant_id=tenant_id, person_id=person_id, **values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Person.tenant_id, Person.person_id],
            set_={k: stmt.excluded[k] for k in values} | {"updated_at": datetime.now(UTC)},
        )
    )
    before = (
        None
        if prior is None
        else {
            "role": prior.role,
            "manager_id": prior.manager_id,
            "active_from": prior.active_from and prior.active_from.isoformat(),
            "active_to": prior.active_to and prior.active_to.isoformat(),
        }
    )
    after = {
        "role": role,
        "manager_id": manager_id,
        "active_from": active_from and active_from.isoformat(),
        "active_to": active_to and active_to.isoformat(),
    }
    renamed = prior is not None and prior.name != name
    if before != after or renamed:
        await audit.record(
            session,
            audit_log,
            tenant_id=tenant_id,
            actor=actor,
            action="person.set",
            target_type="person",
            target_key=person_id,
            before=before,
            after=after,
        )
        uow.emit(
            new_event(
                PersonSet,
                tenant_id=tenant_id,
                key=person_key(tenant_id, person_id),
                occurred_at=datetime.now(UTC),
                payload=PersonSetPayload(
                    person_id=person_id,
                    role=role,
                    manager_id=manager_id,
                    active_from=active_from,
                    active_to=active_to,
                    name=name,
                ),
            )
        )
    affected = False
    if team_id is not None:
        since = team_from or active_from or datetime.now(UTC).date()
        affected = await save_membership(
            uow, tenant_id, actor, person_id, team_id, since, rebuild=rebuild
        )
    return prior is None, affected
