"""A person's data in incentives: export it; pseudonymise it when goals announces an erasure."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update

from incentives.models import (
    CommissionLine,
    CommissionTotal,
    CorrectedCredit,
    Credit,
    FinalGrade,
    PayAppeal,
    PersonRole,
    PlanAcceptance,
    PlanAssignment,
    Quota,
    Statement,
    SurveyScore,
    audit_log,
)

# Every incentives table that names a person, and the column.
from shared.db.uow import UnitOfWork
from shared.events.envelope import PersonErased
from shared.privacy import audit_rows_about, pseudonymise_audit, pseudonymise_columns, rows_of

PERSON_COLUMNS = [
    (CommissionLine.__table__, "person_id"),
    (CommissionTotal.__table__, "person_id"),
    (Credit.__table__, "person_id"),
    (CorrectedCredit.__table__, "person_id"),
    (Quota.__table__, "person_id"),
    (FinalGrade.__table__, "person_id"),
    (PlanAssignment.__table__, "person_id"),
    (PlanAcceptance.__table__, "person_id"),
    (Statement.__table__, "person_id"),
    (Statement.__table__, "prepared_by"),
    (Statement.__table__, "approved_by"),
    (Statement.__table__, "paid_by"),
    (SurveyScore.__table__, "person_id"),
    (PayAppeal.__table__, "person_id"),
    (PayAppeal.__table__, "decided_by"),
    (PersonRole.__table__, "person_id"),
]


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
        "credits": await rows_of(s, Credit.__table__, tenant_id, Credit.person_id == person_id),
        "quotas": await rows_of(s, Quota.__table__, tenant_id, Quota.person_id == person_id),
        "statements": await rows_of(
            s, Statement.__table__, tenant_id, Statement.person_id == person_id
        ),
        "pay_appeals": await rows_of(
            s, PayAppeal.__table__, tenant_id, PayAppeal.person_id == person_id
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
        PERSON_COLUMNS,  # type: ignore[arg-type]
    )
    await pseudonymise_audit(uow.session, audit_log, event.tenant_id, p.person_id, p.pseudonym)
    await uow.session.execute(
        update(PersonRole)
        .where(PersonRole.tenant_id == event.tenant_id, PersonRole.person_id == p.pseudonym)
        .values(name=None)
    )
