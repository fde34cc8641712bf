"""A person's data in incentives: export it; pseudonymise it when goals announces an erasure."""

from __future__ import annotations

import uuid
from typing import Any

from incentives.models import CommissionLine, CommissionTotal, audit_log
from shared.db.uow import UnitOfWork
from shared.events.envelope import PersonErased
from shared.privacy import audit_rows_about, pseudonymise_audit, pseudonymise_columns, rows_of


async def export(uow: UnitOfWork, tenant_id: uuid.UUID, person_id: str) -> dict[str, Any]:
    s = uow.session
    return {
        "person_id": person_id,
        "commission_lines": await rows_of(
            s, CommissionLine.__table__, tenant_id, CommissionLine.person_id == person_id
        ),
        "commission_totals": await rows_of(
            s, CommissionTotal.__table__, tenant_id, CommissionTotal.person_id == person_id
        ),
        "audit_log": await audit_rows_about(s, audit_log, tenant_id, person_id),
    }


async def apply_erasure(uow: UnitOfWork, event: PersonErased) -> None:
    p = event.payload
    await pseudonymise_columns(
        uow.session,
        event.tenant_id,
        p.person_id,
        p.pseudonym,
        [(CommissionLine.__table__, "person_id"), (CommissionTotal.__table__, "person_id")],  # type: ignore[list-item]
    )
    await pseudonymise_audit(uow.session, audit_log, event.tenant_id, p.person_id, p.pseudonym)
