"""The incentives schema."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, Index, Text, Uuid, func
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


class Plan(Base):
    """One version of a pay plan: components as data, effective from a date."""

    __tablename__ = "plans"

    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    key: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(BigInteger)
    definition: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class PlanAssignment(Base):
    """A person is on a plan (its latest version in force) from a date on."""

    __tablename__ = "plan_assignments"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    plan_key: Mapped[str] = mapped_column(Text)
    quota: Mapped[Decimal | None] = mapped_column(Amount)  # overrides the goal when set
    assigned_by: Mapped[str] = mapped_column(Text)


class PlanAcceptance(Base):
    """A person acknowledged a plan version: who, when, which version."""

    __tablename__ = "plan_acceptances"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    accepted_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Credit(Base):
    """A person's share of a payment (positive) or refund (negative): the commission base."""

    __tablename__ = "credits"
    # A correction names its record by (source, activity id).
    __table_args__ = (Index("ix_credits_record", "tenant_id", "activity_id", "source_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    day: Mapped[date] = mapped_column(Date)  # the tenant-local day it was collected
    activity_id: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    base: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(Text)
    segment: Mapped[str | None] = mapped_column(Text)
    # A refund of a payment: within the plan's clawback window it counts in the period of the
    # payment it reverses (``payment_day``).
    clawback_of: Mapped[str | None] = mapped_column(Text)
    payment_day: Mapped[date | None] = mapped_column(Date)
    # The webhook source the record came from: with activity_id, what a CRM correction names.
    source_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class ActivityCorrection(Base):
    """The correction in force for a CRM record (the latest by when it happened in the CRM), and
    the original's event once it is known. No personal data: the corrected shares are apart."""

    __tablename__ = "activity_corrections"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    refers_to: Mapped[str] = mapped_column(Text, primary_key=True)
    order_key: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)  # record_updated | record_deleted
    original_event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class CorrectedCredit(Base):
    """What the correction in force credits: each person's share of the corrected payment or
    refund, applied in place of the original's credits (now, or when the original arrives)."""

    __tablename__ = "corrected_credits"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    refers_to: Mapped[str] = mapped_column(Text, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    type: Mapped[str] = mapped_column(Text)
    base: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(Text)
    segment: Mapped[str | None] = mapped_column(Text)
    refund_of: Mapped[str | None] = mapped_column(Text)


class Quota(Base):
    """A person's goal target for a metric and period, as goals announced it."""

    __tablename__ = "quotas"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    metric: Mapped[str] = mapped_column(Text, primary_key=True)
    period_kind: Mapped[str] = mapped_column(Text, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    target: Mapped[Decimal] = mapped_column(Amount)


class Statement(Base):
    """A person's statement for a period: prepared (draft), approved by someone else (locked),
    paid. The lines are the snapshot taken when it was prepared."""

    __tablename__ = "statements"

    statement_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(Text)
    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    currency: Mapped[str] = mapped_column(Text)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    total: Mapped[Decimal] = mapped_column(Amount)
    status: Mapped[str] = mapped_column(Text)  # draft, approved, paid
    prepared_by: Mapped[str] = mapped_column(Text)
    prepared_at: Mapped[datetime] = mapped_column(server_default=func.now())
    approved_by: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None]
    paid_by: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[datetime | None]


class FinalGrade(Base):
    """A person's final grade for a period, as scoring announced it (for grade coefficients)."""

    __tablename__ = "final_grades"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    period: Mapped[str] = mapped_column(Text, primary_key=True)
    grade: Mapped[str] = mapped_column(Text)
    total: Mapped[Decimal] = mapped_column(Amount)


class FxRate(Base):
    """The tenant's rate table: 1 unit of `currency` = `rate` units of `base`, from a date on."""

    __tablename__ = "fx_rates"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    base: Mapped[str] = mapped_column(Text, primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Amount)


class SurveyScore(Base):
    """A customer survey response crediting a person (NPS 0–10, CSAT 0–100)."""

    __tablename__ = "survey_scores"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(Text)
    score: Mapped[Decimal] = mapped_column(Amount)


class TeamAttainment(Base):
    """A team's attainment of a goal, as goals announced it (for the team bonus pool)."""

    __tablename__ = "team_attainment"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[str] = mapped_column(Text, primary_key=True)
    metric: Mapped[str] = mapped_column(Text, primary_key=True)
    period_kind: Mapped[str] = mapped_column(Text, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    attainment: Mapped[Decimal] = mapped_column(Amount)


class TeamPool(Base):
    """A team bonus pool: the best team's manager allocates it; the allocation must add up and
    is approved by someone else."""

    __tablename__ = "team_pools"

    pool_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    period: Mapped[str] = mapped_column(Text)
    team_id: Mapped[str] = mapped_column(Text)
    metric: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Amount)
    allocation: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(Text)  # open, allocated, approved
    allocated_by: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)


class PayAppeal(Base):
    """A person disputes a pay line; a committee member decides; a correction is a line."""

    __tablename__ = "pay_appeals"

    appeal_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(Text)
    component: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)  # submitted, accepted, rejected
    correction: Mapped[Decimal | None] = mapped_column(Amount)
    decided_by: Mapped[str | None] = mapped_column(Text)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(server_default=func.now())


class PersonRole(Base):
    """People's roles and names as goals announces them (plans can be assigned to a role;
    payroll exports name the payee). An erasure pseudonymises the id and forgets the name."""

    __tablename__ = "person_roles"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    role: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
