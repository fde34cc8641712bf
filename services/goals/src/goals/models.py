"""The goals schema."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db.audit import add_audit_table
from shared.db.messaging import add_messaging_tables, service_metadata
from shared.db.types import Amount
from shared.org import add_org_tables

SCHEMA = "goals"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)
    type_annotation_map = {datetime: TIMESTAMP(timezone=True), dict[str, Any]: JSONB}


messaging = add_messaging_tables(Base.metadata)
audit_log = add_audit_table(Base.metadata)
org = add_org_tables(Base.metadata)


class Tenant(Base):
    __tablename__ = "tenants"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(Text)
    fiscal_year_start_month: Mapped[int] = mapped_column(SmallInteger, default=1)
    currency: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Source(Base):
    """A registered webhook source: tenant + vendor kind + secret."""

    __tablename__ = "sources"

    source_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.tenant_id"), index=True)
    kind: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Activity(Base):
    """An accepted canonical activity: the permanent system of record."""

    __tablename__ = "activities"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    type: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    content_hash: Mapped[str] = mapped_column(Text)
    body: Mapped[dict[str, Any]]

    __table_args__ = (
        Index("ix_activities_tenant_actor_occurred", "tenant_id", "actor_id", "occurred_at"),
    )


class Quarantine(Base):
    """An authenticated payload that could not be accepted: kept for inspection and replay."""

    __tablename__ = "quarantine"

    quarantine_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]]
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="open")
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())


class KpiTotal(Base):
    """The running actual of one metric for one person and one month."""

    __tablename__ = "kpi_totals"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    metric: Mapped[str] = mapped_column(Text, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Amount)
    event_count: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Target(Base):
    """A person's target for a metric and a month."""

    __tablename__ = "targets"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    metric: Mapped[str] = mapped_column(Text, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[Decimal] = mapped_column(Amount)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Erasure(Base):
    """An erased person: later events naming them are credited to the pseudonym instead."""

    __tablename__ = "erasures"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    subject_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(Text)
    erased_by: Mapped[str] = mapped_column(Text)
    erased_at: Mapped[datetime] = mapped_column(server_default=func.now())
