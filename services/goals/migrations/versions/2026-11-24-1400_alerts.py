"""early warning: alert settings, alerts, evidence, channels, deliveries and their attempts

Revision ID: goals_0008
Revises: goals_0007
Create Date: 2026-11-24 14:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.migrations import enable_tenant_rls

revision: str = "goals_0008"
down_revision: str | None = "goals_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "goals"
TS = postgresql.TIMESTAMP(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())


def now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "alert_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("thresholds", JSON, nullable=False),
        sa.Column("locale", sa.Text(), nullable=False),
        sa.Column("link_base", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_at", TS, server_default=now(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_alert_settings")),
        schema=S,
    )
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=True),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("metric", sa.Text(), nullable=True),
        sa.Column("period", sa.Text(), nullable=True),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("figures", JSON, nullable=False),
        sa.Column("evidence_requested", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("opened_at", TS, server_default=now(), nullable=False),
        sa.Column("acknowledged_by", sa.Text(), nullable=True),
        sa.Column("acknowledged_at", TS, nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alerts")),
        schema=S,
    )
    op.create_index(
        "uq_alerts_one_open_per_cause",
        "alerts",
        ["tenant_id", "rule", "subject"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.create_index(
        "ix_alerts_tenant_person", "alerts", ["tenant_id", "person_id", "status"], schema=S
    )
    op.create_table(
        "alert_evidence",
        sa.Column("evidence_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("submitted_by", sa.Text(), nullable=False),
        sa.Column("submitted_at", TS, server_default=now(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("evidence_id", name=op.f("pk_alert_evidence")),
        schema=S,
    )
    op.create_index(op.f("ix_alert_evidence_alert_id"), "alert_evidence", ["alert_id"], schema=S)
    op.create_table(
        "channels",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("locale", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", TS, server_default=now(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channels")),
        schema=S,
    )
    op.create_index(op.f("ix_channels_tenant_id"), "channels", ["tenant_id"], schema=S)
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, server_default=now(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, server_default=now(), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_deliveries")),
        schema=S,
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"], schema=S)
    op.create_table(
        "delivery_attempts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempted_at", TS, server_default=now(), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", "attempt", name=op.f("pk_delivery_attempts")),
        schema=S,
    )
    for table in ("alert_settings", "alerts", "alert_evidence", "channels", "delivery_attempts"):
        enable_tenant_rls(S, table)
    # The delivery worker finds due deliveries across tenants (then works inside each tenant).
    enable_tenant_rls(S, "deliveries", system="select")


def downgrade() -> None:
    raise NotImplementedError("goals_0008 is not reversible: restore from a backup instead")
