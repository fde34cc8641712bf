"""A person's data: export it, or erase it by pseudonymising the person everywhere."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import cast, func, or_, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import Text

from goals.ingest.service import forget_no_erasures
from goals.models import (
    Activity,
    Alert,
    AlertEvidence,
    Correction,
    DistinctKey,
    Erasure,
    Fact,
    Goal,
    GoalVersion,
    Person,
    Proposal,
    Quarantine,
    Total,
    audit_log,
    org,
)
from shared.db.uow import UnitOfWork
from shared.events.envelope import PersonErased, PersonErasedPayload, new_event, person_key
from shared.privacy import (
    _json_escape,
    audit_erasure,
    audit_rows_about,
    json_text_replace,
    new_pseudonym,
    pseudonymise_audit,
    pseudonymise_columns,
    rows_of,
    subject_hash,
)


def _credited(person_id: str) -> Any:
    return Activity.body.op("@>")(cast({"credit_split": [{"actor_id": person_id}]}, JSONB))


async def export(uow: UnitOfWork, tenant_id: uuid.UUID, person_id: str) -> dict[str, Any]:
    s = uow.session
    return {
        "person_id": person_id,
        "activities": [
            r["body"]
            for r in await rows_of(
                s,
                Activity.__table__,
                tenant_id,
                or_(Activity.actor_id == person_id, _credited(person_id)),
            )
        ],
        "person": await rows_of(s, Person.__table__, tenant_id, Person.person_id == person_id),
        "memberships": await rows_of(
            s, org.memberships, tenant_id, org.memberships.c.person_id == person_id
        ),
        "totals": await rows_of(
            s,
            Total.__table__,
            tenant_id,
            (Total.owner_kind == "person") & (Total.owner_id == person_id),
        ),
        "goals": await rows_of(
            s,
            Goal.__table__,
            tenant_id,
            (Goal.owner_kind == "person") & (Goal.owner_id == person_id),
        ),
        "proposals": await rows_of(
            s, Proposal.__table__, tenant_id, Proposal.proposed_by == person_id
        ),
        "alerts": await rows_of(s, Alert.__table__, tenant_id, Alert.person_id == person_id),
        "evidence": await rows_of(
            s, AlertEvidence.__table__, tenant_id, AlertEvidence.submitted_by == person_id
        ),
        "audit_log": await audit_rows_about(s, audit_log, tenant_id, person_id),
    }


async def erase(
    uow: UnitOfWork, tenant_id: uuid.UUID, person_id: str, erased_by: str, key: str
) -> str:
    """Replace the person's id by a pseudonym in every goals table (totals keep their values) and
    tell the other services to do the same."""
    s = uow.session
    pseudonym = new_pseudonym()
    await pseudonymise_columns(
        s,
        tenant_id,
        person_id,
        pseudonym,
        [
            (Total.__table__, "owner_id"),
            (DistinctKey.__table__, "owner_id"),
            (Goal.__table__, "owner_id"),
            (Goal.__table__, "updated_by"),
            (GoalVersion.__table__, "changed_by"),
            (Proposal.__table__, "proposed_by"),
            (Proposal.__table__, "decided_by"),
            (Person.__table__, "manager_id"),
            (Activity.__table__, "actor_id"),
            (Fact.__table__, "actor_id"),
            (org.memberships, "person_id"),
            (org.teams, "manager_id"),
            (Alert.__table__, "person_id"),
            (Alert.__table__, "acknowledged_by"),
            (Alert.__table__, "resolved_by"),
            (AlertEvidence.__table__, "submitted_by"),
            (AlertEvidence.__table__, "decided_by"),
        ],  # type: ignore[list-item]
    )
    # Alert causes name the person as one "|"-separated part ("p-12|metric|2026-03").
    await s.execute(
        text(
            """
            UPDATE goals.alerts
            SET subject = array_to_string(
                array_replace(string_to_array(subject, '|'), :person, :pseudonym), '|')
            WHERE tenant_id = :tenant AND :person = ANY(string_to_array(subject, '|'))
            """
        ),
        {"tenant": tenant_id, "person": person_id, "pseudonym": pseudonym},
    )
    # The person's own record keeps its dates (targets stay prorated), not who they were.
    await s.execute(
        update(Person)
        .where(Person.tenant_id == tenant_id, Person.person_id == person_id)
        .values(person_id=pseudonym, name=pseudonym, email=None)
    )
    await s.execute(
        update(Fact)
        .where(
            Fact.tenant_id == tenant_id,
            cast(Fact.body, Text).contains(f'"{_json_escape(person_id)}"'),
        )
        .values(body=json_text_replace(Fact.body, person_id, pseudonym))
    )
    await s.execute(
        update(Correction)
        .where(
            Correction.tenant_id == tenant_id,
            cast(Correction.replacement, Text).contains(f'"{_json_escape(person_id)}"'),
        )
        .values(replacement=json_text_replace(Correction.replacement, person_id, pseudonym))
    )
    # The system of record keeps every activity, with the id replaced inside its body too.
    await s.execute(
        update(Activity.__table__)
        .where(
            Activity.tenant_id == tenant_id,
            or_(Activity.actor_id == pseudonym, _credited(person_id)),
        )
        .values(body=json_text_replace(Activity.body, person_id, pseudonym))
    )
    quoted = f'"{_json_escape(person_id)}"'
    await s.execute(
        update(Quarantine)
        .where(Quarantine.tenant_id == tenant_id, Quarantine.body.contains(quoted))
        .values(body=func.replace(Quarantine.body, quoted, f'"{pseudonym}"'))
    )
    await s.execute(
        update(Quarantine)
        .where(Quarantine.tenant_id == tenant_id, cast(Quarantine.detail, Text).contains(quoted))
        .values(detail=json_text_replace(Quarantine.detail, person_id, pseudonym))
    )
    await pseudonymise_audit(s, audit_log, tenant_id, person_id, pseudonym)
    await audit_erasure(s, audit_log, tenant_id, erased_by, pseudonym)
    # Later events naming the person are credited to the pseudonym (see ingest). Other api
    # processes notice within their cache time (seconds).
    forget_no_erasures(tenant_id)
    s.add(
        Erasure(
            tenant_id=tenant_id,
            subject_hash=subject_hash(key, tenant_id, person_id),
            pseudonym=pseudonym,
            erased_by=erased_by,
        )
    )
    uow.emit(
        new_event(
            PersonErased,
            tenant_id=tenant_id,
            key=person_key(tenant_id, person_id),
            occurred_at=datetime.now(UTC),
            payload=PersonErasedPayload(person_id=person_id, pseudonym=pseudonym),
        )
    )
    return pseudonym
