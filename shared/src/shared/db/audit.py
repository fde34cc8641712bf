"""The audit log every service keeps in its own schema: who changed which target, with the values
before and after. Written in the same transaction as the change."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Identity,
    MetaData,
    Table,
    Text,
    Uuid,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.ext.asyncio import AsyncSession


def add_audit_table(metadata: MetaData) -> Table:
    return Table(
        "audit_log",
        metadata,
        Column("audit_id", BigInteger, Identity(), primary_key=True),
        Column("tenant_id", Uuid, nullable=False),
        Column("actor", Text, nullable=False),
        Column("action", Text, nullable=False),
        Column("target_type", Text, nullable=False),
        Column("target_key", Text, nullable=False),
        Column("before", JSONB, nullable=True),
        Column("after", JSONB, nullable=True),
        Column("reason", Text, nullable=True),
        Column("at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
        implicit_returning=False,
    )


async def record(
    session: AsyncSession,
    table: Table,
    *,
    tenant_id: uuid.UUID,
    actor: str,
    action: str,
    target_type: str,
    target_key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None = None,
) -> None:
    await session.execute(
        insert(table).values(
            tenant_id=tenant_id,
            actor=actor,
            action=action,
            target_type=target_type,
            target_key=target_key,
            before=before,
            after=after,
            reason=reason,
        )
    )


async def history(
    session: AsyncSession,
    table: Table,
    tenant_id: uuid.UUID,
    *,
    target_type: str | None = None,
    target_key: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    query = select(table).where(table.c.tenant_id == tenant_id)
    if target_type:
        query = query.where(table.c.target_type == target_type)
    if target_key:
        query = query.where(table.c.target_key == target_key)
    rows = await session.execute(query.order_by(table.c.audit_id.desc()).limit(limit))
    return [dict(r._mapping) for r in rows]


def jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Decimals, dates and ids as strings: the log keeps exactly what was stored."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        out[k] = (
            v
            if v is None or isinstance(v, bool | int | str)
            else (v.isoformat() if isinstance(v, datetime) else str(v))
        )
    return out
