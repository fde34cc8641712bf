"""The scoring schema."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, Text, UniqueConstraint, Uuid, func
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


class Template(Base):
    """A tenant's scorecard template (a copy of a role template, or its own): items and weights
    adding up to 100, and the 360° rater group weights."""

    __tablename__ = "templates"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    group_weights: Mapped[dict[str, Any]]
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Scorecard(Base):
    """One person × one period × one template (its items snapshotted when created)."""

    __tablename__ = "scorecards"

    scorecard_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(Text)  # label, e.g. 2026-Q1
    period_kind: Mapped[str] = mapped_column(Text)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    template_key: Mapped[str] = mapped_column(Text)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    group_weights: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(Text, default="provisional")  # provisional, final
    total: Mapped[Decimal | None] = mapped_column(Amount)
    grade: Mapped[str | None] = mapped_column(Text)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "person_id",
            "period_kind",
            "period_start",
            name="uq_scorecards_person_period",
        ),
    )


class ScorecardItem(Base):
    """The current result of one item of a scorecard, with its explanation."""

    __tablename__ = "scorecard_items"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scorecard_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    item_key: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    weight: Mapped[Decimal] = mapped_column(Amount)
    target: Mapped[Decimal | None] = mapped_column(Amount)
    actual: Mapped[Decimal | None] = mapped_column(Amount)
    ratio: Mapped[Decimal | None] = mapped_column(Amount)
    score: Mapped[Decimal | None] = mapped_column(Amount)
    status: Mapped[str] = mapped_column(Text)  # scored, waiting, incomplete
    explanation: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Rating(Base):
    """A 360° rating of one qualitative item by one rater (0–100, with a comment)."""

    __tablename__ = "ratings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scorecard_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    item_key: Mapped[str] = mapped_column(Text, primary_key=True)
    rater_id: Mapped[str] = mapped_column(Text, primary_key=True)
    rater_group: Mapped[str] = mapped_column(Text)
    score: Mapped[Decimal] = mapped_column(Amount)
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ReviewRequest(Base):
    """A rater asked to review a scorecard's qualitative items, as a member of a rater group."""

    __tablename__ = "review_requests"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scorecard_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    rater_id: Mapped[str] = mapped_column(Text, primary_key=True)
    rater_group: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="pending")  # pending, done
    requested_by: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(server_default=func.now())
    reminded_at: Mapped[datetime | None]


class ScoringSettings(Base):
    """A tenant's grade bands and forced distribution (off by default)."""

    __tablename__ = "scoring_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    bands: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    forced_distribution: Mapped[bool] = mapped_column(Boolean, default=False)
    quotas: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Calibration(Base):
    """A period's close for a team (or the company): the distribution report, the proposed moves
    and the grades a calibrator approved, each change with its reason."""

    __tablename__ = "calibrations"

    calibration_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    period: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)  # "company" or a team id
    status: Mapped[str] = mapped_column(Text)  # proposed, approved
    report: Mapped[dict[str, Any]]
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    approved_by: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Appeal(Base):
    """A person appeals a final score item; a committee member (not their manager) decides."""

    __tablename__ = "appeals"

    appeal_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scorecard_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[str] = mapped_column(Text)
    item_key: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)  # submitted, accepted, rejected
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    corrected_value: Mapped[Decimal | None] = mapped_column(Amount)
    effect: Mapped[dict[str, Any] | None]
    submitted_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Interview(Base):
    """The performance report (delivered first) and the interview record, signed by both sides
    and then locked."""

    __tablename__ = "interviews"

    scorecard_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[str] = mapped_column(Text)
    manager_id: Mapped[str] = mapped_column(Text)
    report: Mapped[dict[str, Any]]
    delivered_on: Mapped[date]
    status: Mapped[str] = mapped_column(
        Text
    )  # report_delivered, recorded, signed_by_person, signed_by_manager, locked
    interview_on: Mapped[date | None] = mapped_column(Date)
    self_review: Mapped[str | None] = mapped_column(Text)
    feedback: Mapped[str | None] = mapped_column(Text)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    person_signed_at: Mapped[datetime | None]
    manager_signed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
