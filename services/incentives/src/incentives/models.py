"""The incentives schema."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, Text, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db.audit import add_audit_table
from shared.db.messaging import add_messaging_tables, service_metadata
from shared.db.types import Amount
from shared.org import add_org_tables

SCHEMA = "incentives"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)
    type_annotation_map = {datetime: TIMESTAMP(timezone=True), dict[str, Any]: JSONB}


messaging = add_messaging_tables(Base.metadata)
audit_log = add_audit_table(Base.metadata)
org = add_org_tables(Base.metadata)


class FlatRatePlan(Base):
    """The simplest pay plan: one commission rate on collected revenue."""

    __tablename__ = "flat_rate_plans"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Amount)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CommissionLine(Base):
    """The commission one payment (or refund) earned one person, with its reason."""

    __tablename__ = "commission_lines"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    activity_id: Mapped[str] = mapped_column(Text)
    activity_type: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    base: Mapped[Decimal] = mapped_column(Amount)
    rate: Mapped[Decimal] = mapped_column(Amount)
    commission: Mapped[Decimal] = mapped_column(Amount)
    explanation: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CommissionTotal(Base):
    """A person's commission for one month and currency."""

    __tablename__ = "commission_totals"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    base_total: Mapped[Decimal] = mapped_column(Amount)
    commission_total: Mapped[Decimal] = mapped_column(Amount)
    line_count: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
