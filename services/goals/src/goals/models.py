"""The goals schema."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
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
    secret: Mapped[str] = mapped_column(Text)  # the current secret (path token, password)
    # Vendor settings: organization_id (Salesforce), basic_user (Pipedrive), stage_map, currency,
    # mapping (a tenant-defined mapping: draft and active).
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class RetiredSecret(Base):
    """A rotated-out secret that still verifies until its grace period ends."""

    __tablename__ = "retired_secrets"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    secret: Mapped[str] = mapped_column(Text, primary_key=True)
    expires_at: Mapped[datetime]
    retired_by: Mapped[str] = mapped_column(Text)


class CrmObjectState(Base):
    """What a source last told us of a CRM object (HubSpot sends one changed property at a time)."""

    __tablename__ = "crm_object_state"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    object_type: Mapped[str] = mapped_column(Text, primary_key=True)
    object_id: Mapped[str] = mapped_column(Text, primary_key=True)
    properties: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class PersonAlias(Base):
    """How a source names a person (a HubSpot owner id, a Salesforce user id...)."""

    __tablename__ = "person_aliases"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    alias: Mapped[str] = mapped_column(Text, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Backfill(Base):
    """A bulk import of historical activities, with its progress."""

    __tablename__ = "backfills"

    backfill_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(Text)  # running, done, failed
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    quarantined: Mapped[int] = mapped_column(BigInteger, default=0)
    started_by: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


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
    backfill: Mapped[bool] = mapped_column(Boolean, server_default="false")

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
    status: Mapped[str] = mapped_column(Text, default="open")  # open, replayed, dismissed
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # what its replay produced


class Fact(Base):
    """An original activity as it stands now: itself, or what its latest correction made of it.
    Derived from the activities (a replay rebuilds it); ``body`` is NULL once deleted."""

    __tablename__ = "facts"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, primary_key=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    type: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime | None]
    local_day: Mapped[date | None] = mapped_column(Date)
    deal_id: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(Text)
    correction_key: Mapped[str | None] = mapped_column(Text)
    body: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        Index("ix_facts_tenant_type_day", "tenant_id", "type", "local_day"),
        Index("ix_facts_tenant_request", "tenant_id", "request_id"),
        Index("ix_facts_tenant_deal", "tenant_id", "deal_id"),
    )


class Correction(Base):
    """The correction in force for an original (the latest one), kept even before the original
    arrives: the original then takes its corrected form at once."""

    __tablename__ = "corrections"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    refers_to: Mapped[str] = mapped_column(Text, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    order_key: Mapped[str] = mapped_column(Text)
    replacement: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Total(Base):
    """The running actual of one stored metric for one owner (person, team or company) and one
    period. Sums and counts: ``value``; averages: ``value / event_count``; distinct counts:
    ``value`` distinct keys."""

    __tablename__ = "totals"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    owner_kind: Mapped[str] = mapped_column(Text, primary_key=True)
    owner_id: Mapped[str] = mapped_column(Text, primary_key=True)
    metric: Mapped[str] = mapped_column(Text, primary_key=True)
    period_kind: Mapped[str] = mapped_column(Text, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Amount)
    event_count: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        Index(
            "ix_totals_board", "tenant_id", "metric", "period_kind", "period_start", "owner_kind"
        ),
    )


class DistinctKey(Base):
    """How many surviving events name each value of a distinct-count metric."""

    __tablename__ = "distinct_keys"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    owner_kind: Mapped[str] = mapped_column(Text, primary_key=True)
    owner_id: Mapped[str] = mapped_column(Text, primary_key=True)
    metric: Mapped[str] = mapped_column(Text, primary_key=True)
    period_kind: Mapped[str] = mapped_column(Text, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(Text, primary_key=True)
    refs: Mapped[int] = mapped_column(BigInteger)


class LateActivity(Base):
    """An event (or correction) for a closed period: recorded here, not added to its totals."""

    __tablename__ = "late_activities"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    period_kind: Mapped[str] = mapped_column(Text, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    activity_id: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ClosedPeriod(Base):
    """A closed period: its targets and totals are frozen."""

    __tablename__ = "closed_periods"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    period_kind: Mapped[str] = mapped_column(Text, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    period_end: Mapped[date] = mapped_column(Date)
    closed_by: Mapped[str] = mapped_column(Text)
    closed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Metric(Base):
    """A tenant's own metric, or its override of a standard one (same key)."""

    __tablename__ = "metrics"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    definition: Mapped[dict[str, Any]]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Template(Base):
    """A tenant's copy of a role template (scorecard items and weights), editable."""

    __tablename__ = "templates"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    copied_from: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Person(Base):
    """Someone in the org: external id (as the CRM names them), role, manager, active dates."""

    __tablename__ = "people"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    manager_id: Mapped[str | None] = mapped_column(Text)
    active_from: Mapped[date | None] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Goal(Base):
    """A goal: metric × owner (company / team / person) × period (× a dimension value) → target."""

    __tablename__ = "goals"

    goal_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    metric: Mapped[str] = mapped_column(Text)
    dimension: Mapped[str] = mapped_column(Text, default="")  # "" or "product_line=saas"
    owner_kind: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(Text)
    period_kind: Mapped[str] = mapped_column(Text)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    target: Mapped[Decimal] = mapped_column(Amount)
    set_by_hand: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    split_rule: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "metric",
            "dimension",
            "owner_kind",
            "owner_id",
            "period_kind",
            "period_start",
            name="uq_goals_one_per_owner_metric_period",
        ),
        Index("ix_goals_owner_period", "tenant_id", "owner_kind", "owner_id", "period_start"),
    )


class GoalVersion(Base):
    """Every target a goal has had: who, when, why."""

    __tablename__ = "goal_versions"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    goal_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[Decimal] = mapped_column(Amount)
    change: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Proposal(Base):
    """A bottom-up adjustment: the owner proposes a target, a manager approves or rejects it."""

    __tablename__ = "proposals"

    proposal_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    goal_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    proposed_target: Mapped[Decimal] = mapped_column(Amount)
    reason: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(Text)
    proposed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    status: Mapped[str] = mapped_column(Text, default="pending")
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)


class Erasure(Base):
    """An erased person: later events naming them are credited to the pseudonym instead."""

    __tablename__ = "erasures"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    subject_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(Text)
    erased_by: Mapped[str] = mapped_column(Text)
    erased_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AlertSettings(Base):
    """A tenant's early-warning thresholds, message locale and front-end link."""

    __tablename__ = "alert_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    thresholds: Mapped[dict[str, Any]]
    locale: Mapped[str] = mapped_column(Text, default="zh")
    link_base: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Alert(Base):
    """An early warning: its rule, person, period, the figures behind it; open → acknowledged →
    resolved. One open alert per cause (rule + subject)."""

    __tablename__ = "alerts"

    alert_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    rule: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    person_id: Mapped[str | None] = mapped_column(Text)
    team_id: Mapped[str | None] = mapped_column(Text)
    metric: Mapped[str | None] = mapped_column(Text)
    period: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict[str, Any]]
    evidence_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(Text, default="open")
    opened_at: Mapped[datetime] = mapped_column(server_default=func.now())
    acknowledged_by: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(
            "uq_alerts_one_open_per_cause",
            "tenant_id",
            "rule",
            "subject",
            unique=True,
            postgresql_where=text("status <> 'resolved'"),
        ),
        Index("ix_alerts_tenant_person", "tenant_id", "person_id", "status"),
    )


class AlertEvidence(Base):
    """Evidence a person attaches to an anomaly; a manager accepts or rejects it."""

    __tablename__ = "alert_evidence"

    evidence_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    alert_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(server_default=func.now())
    decision: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)


class Channel(Base):
    """Where a tenant's alerts go: our signed JSON, DingTalk, WeCom, Feishu or Slack."""

    __tablename__ = "channels"

    channel_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(Text, default="zh")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Delivery(Base):
    """One alert to one channel: retried with backoff until delivered or given up."""

    __tablename__ = "deliveries"

    delivery_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    channel_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    alert_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event: Mapped[str] = mapped_column(Text)  # raised / resolved
    status: Mapped[str] = mapped_column(Text, default="pending")  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),)


class DeliveryAttempt(Base):
    """Every attempt of a delivery, with its status code (0: no answer)."""

    __tablename__ = "delivery_attempts"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    delivery_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    status_code: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    attempted_at: Mapped[datetime] = mapped_column(server_default=func.now())
