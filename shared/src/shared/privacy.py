"""Personal data (PIPL / GDPR): erasing a person replaces their id by a pseudonym in every table
of a service — audit log included — so every total stays as it was, attached to nobody."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence

from sqlalchemy import Table, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.audit import record


def subject_hash(key: str, tenant_id: uuid.UUID, person_id: str) -> str:
    """How an erased person's later events are recognised without keeping their id."""
    return hmac.new(key.encode(), f"{tenant_id}:{person_id}".encode(), hashlib.sha256).hexdigest()


def new_pseudonym() -> str:
    return "erased-" + secrets.token_hex(8)


def json_text_replace(column: object, person_id: str, pseudonym: str) -> object:
    """Replace the id where it stands as a whole JSON string value ("p-12"), nowhere else."""
    from sqlalchemy import cast
    from sqlalchemy.dialects.postgresql import JSONB
    from sqlalchemy.types import Text

    return cast(
        func.replace(cast(column, Text), f'"{_json_escape(person_id)}"', f'"{pseudonym}"'), JSONB
    )


def _json_escape(value: str) -> str:
    import json

    return json.dumps(value)[1:-1]


async def pseudonymise_columns(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    person_id: str,
    pseudonym: str,
    columns: Sequence[tuple[Table, str]],
) -> int:
    """UPDATE table SET column = pseudonym WHERE column = person_id, for each (table, column)."""
    changed = 0
    for table, name in columns:
        column = table.c[name]
        result = await session.execute(
            update(table)
            .where(table.c.tenant_id == tenant_id, column == person_id)
            .values({name: pseudonym})
        )
        changed += result.rowcount or 0  # type: ignore[attr-defined]
    return changed


async def pseudonymise_audit(
    session: AsyncSession, audit: Table, tenant_id: uuid.UUID, person_id: str, pseudonym: str
) -> None:
    """Actors, target keys ("p-12/metric/…") and before/after values in the audit log."""
    t = audit.c
    await session.execute(
        update(audit).where(t.tenant_id == tenant_id, t.actor == person_id).values(actor=pseudonym)
    )
    await session.execute(
        update(audit)
        .where(
            t.tenant_id == tenant_id,
            (t.target_key == person_id) | t.target_key.startswith(person_id + "/"),
        )
        .values(target_key=literal(pseudonym) + func.substr(t.target_key, len(person_id) + 1))
    )
    for name in ("before", "after"):
        await session.execute(
            update(audit)
            .where(t.tenant_id == tenant_id, t[name].is_not(None))
            .values({name: json_text_replace(t[name], person_id, pseudonym)})
        )


async def audit_erasure(
    session: AsyncSession, audit: Table, tenant_id: uuid.UUID, actor: str, pseudonym: str
) -> None:
    await record(
        session,
        audit,
        tenant_id=tenant_id,
        actor=actor,
        action="person.erased",
        target_type="person",
        target_key=pseudonym,
        before=None,
        after={"pseudonym": pseudonym},
    )


async def rows_of(
    session: AsyncSession, table: Table, tenant_id: uuid.UUID, where: object
) -> list[dict[str, object]]:
    rows = await session.execute(select(table).where(table.c.tenant_id == tenant_id, where))  # type: ignore[arg-type]
    return [
        {
            k: (v if v is None or isinstance(v, bool | int | str | dict | list) else str(v))
            for k, v in r._mapping.items()
        }
        for r in rows
    ]


async def audit_rows_about(
    session: AsyncSession, audit: Table, tenant_id: uuid.UUID, person_id: str
) -> list[dict[str, object]]:
    """Audit entries the person made, or about their targets ("p-12/…")."""
    a = audit.c
    return await rows_of(
        session,
        audit,
        tenant_id,
        or_(
            a.actor == person_id,
            a.target_key == person_id,
            a.target_key.startswith(person_id + "/"),
        ),
    )
