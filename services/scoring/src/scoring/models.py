"""The scoring schema."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Text, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db.audit import add_audit_table
from shared.db.messaging import add_messaging_tables, service_metadata
from shared.db.types import Amount
from shared.org import add_org_tables

SCHEMA = "scoring"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)
    type_annotation_map = {datetime: TIMESTAMP(timezone=True), dict[str, Any]: JSONB}


messaging = add_messaging_tables(Base.metadata)
audit_log = add_audit_table(Base.metadata)
org = add_org_tables(Base.metadata)


class ScoreItem(Base):
    """A quantitative scorecard item bound to a goals metric (tenant-wide for now)."""

    __tablename__ = "score_items"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    metric: Mapped[str] = mapped_column(Text, primary_key=True)
    weight: Mapped[Decimal] = mapped_column(Amount)
    direction: Mapped[str] = mapped_column(Text)  # higher_is_better | lower_is_better
    cap: Mapped[Decimal] = mapped_column(Amount)
    floor: Mapped[Decimal] = mapped_column(Amount)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Score(Base):
    """The latest score of one item for one person and period."""

    __tablename__ = "scores"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str] = mapped_column(Text)
    weight: Mapped[Decimal] = mapped_column(Amount)
    target: Mapped[Decimal] = mapped_column(Amount)
    actual: Mapped[Decimal] = mapped_column(Amount)
    ratio: Mapped[Decimal] = mapped_column(Amount)
    score: Mapped[Decimal] = mapped_column(Amount)
    explanation: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
