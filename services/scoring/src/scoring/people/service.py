"""A person's data in scoring: export it; pseudonymise it when goals announces an erasure."""

from __future__ import annotations

import uuid
from typing import Any

from scoring.models import (
    Appeal,
    Interview,
    Rating,
    ReviewRequest,
    Score,
    Scorecard,
    audit_log,
)
from shared.db.uow import UnitOfWork
from shared.events.envelope import PersonErased
from shared.privacy import audit_rows_about, pseudonymise_audit, pseudonymise_columns, rows_of

PERSON_COLUMNS = [
    (Score.__table__, "person_id"),
    (Scorecard.__table__, "person_id"),
    (Rating.__table__, "rater_id"),
    (ReviewRequest.__table__, "rater_id"),
    (Appeal.__table__, "person_id"),
    (Appeal.__table__, "decided_by"),
    (Interview.__table__, "person_id"),
    (Interview.__table__, "manager_id"),
]


async def export(uow: UnitOfWork, tenant_id: uuid.UUID, person_id: str) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "scores": await rows_of(
            uow.session, Score.__table__, tenant_id, Score.person_id == person_id
        ),
        "scorecards": await rows_of(
            uow.session, Scorecard.__table__, tenant_id, Scorecard.person_id == person_id
        ),
        "ratings_given": await rows_of(
            uow.session, Rating.__table__, tenant_id, Rating.rater_id == person_id
        ),
        "appeals": await rows_of(
            uow.session, Appeal.__table__, tenant_id, Appeal.person_id == person_id
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
        PERSON_COLUMNS,  # type: ignore[arg-type]
    )
    await pseudonymise_audit(uow.session, audit_log, event.tenant_id, p.person_id, p.pseudonym)
