"""A person's data in scoring: export it; pseudonymise it when goals announces an erasure."""

from __future__ import annotations

import uuid
from typing import Any

from scoring.models import Score, audit_log
from shared.db.uow import UnitOfWork
from shared.events.envelope import PersonErased
from shared.privacy import audit_rows_about, pseudonymise_audit, pseudonymise_columns, rows_of


async def export(uow: UnitOfWork, tenant_id: uuid.UUID, person_id: str) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "scores": await rows_of(
            uow.session, Score.__table__, tenant_id, Score.person_id == person_id
        ),
        "audit_log": await audit_rows_about(uow.session, audit_log, tenant_id, person_id),
    }


async def apply_erasure(uow: UnitOfWork, event: PersonErased) -> None:
    p = event.payload
    await pseudonymise_columns(
        uow.session,
        event.tenant_id,
        p.person_id,
        p.pseudonym,
        [(Score.__table__, "person_id")],  # type: ignore[list-item]
    )
    await pseudonymise_audit(uow.session, audit_log, event.tenant_id, p.person_id, p.pseudonym)
