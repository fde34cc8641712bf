"""create goals schema

Revision ID: goals_0001
Revises:
Create Date: 2026-11-24 07:42:04.955070
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.migrations import (
    create_messaging_tables,
    drop_messaging_tables,
    grant_schema_to_app,
)

revision: str = "goals_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    grant_schema_to_app("goals")
    create_messaging_tables("goals")
    op.create_table(
        "activities",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Text(), nullable=False),
        sa.Column("occurred_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("recorded_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "source_id", "external_id", name=op.f("pk_activities")
        ),
        sa.UniqueConstraint("event_id", name=op.f("uq_activities_event_id")),
        schema="goals",
    )
    op.create_index(
        "ix_activities_tenant_actor_occurred",
        "activities",
        ["tenant_id", "actor_id", "occurred_at"],
        unique=False,
        schema="goals",
    )
    op.create_table(
        "kpi_totals",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(), nullable=False),
        sa.Column("event_count", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "person_id", "metric", "period_start", name=op.f("pk_kpi_totals")
        ),
        schema="goals",
    )
    op.create_table(
        "quarantine",
        sa.Column("quarantine_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column(
            "received_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("quarantine_id", name=op.f("pk_quarantine")),
        schema="goals",
    )
    op.create_index(
        op.f("ix_quarantine_tenant_id"), "quarantine", ["tenant_id"], unique=False, schema="goals"
    )
    op.create_table(
        "targets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "person_id", "metric", "period_start", name=op.f("pk_targets")
        ),
        schema="goals",
    )
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("fiscal_year_start_month", sa.SmallInteger(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenants")),
        schema="goals",
    )
    op.create_table(
        "sources",
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["goals.tenants.tenant_id"], name=op.f("fk_sources_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_sources")),
        schema="goals",
    )
    op.create_index(
        op.f("ix_sources_tenant_id"), "sources", ["tenant_id"], unique=False, schema="goals"
    )


def downgrade() -> None:
    drop_messaging_tables("goals")
    op.drop_index(op.f("ix_sources_tenant_id"), table_name="sources", schema="goals")
    op.drop_table("sources", schema="goals")
    op.drop_table("tenants", schema="goals")
    op.drop_table("targets", schema="goals")
    op.drop_index(op.f("ix_quarantine_tenant_id"), table_name="quarantine", schema="goals")
    op.drop_table("quarantine", schema="goals")
    op.drop_table("kpi_totals", schema="goals")
    op.drop_index("ix_activities_tenant_actor_occurred", table_name="activities", schema="goals")
    op.drop_table("activities", schema="goals")
