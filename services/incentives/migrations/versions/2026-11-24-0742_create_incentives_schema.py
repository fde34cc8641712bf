"""create incentives schema

Revision ID: incentives_0001
Revises:
Create Date: 2026-11-24 07:42:06.178180
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

revision: str = "incentives_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    grant_schema_to_app("incentives")
    create_messaging_tables("incentives")
    op.create_table(
        "commission_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("activity_id", sa.Text(), nullable=False),
        sa.Column("activity_type", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("base", sa.Numeric(), nullable=False),
        sa.Column("rate", sa.Numeric(), nullable=False),
        sa.Column("commission", sa.Numeric(), nullable=False),
        sa.Column("explanation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "event_id", "person_id", name=op.f("pk_commission_lines")
        ),
        schema="incentives",
    )
    op.create_table(
        "commission_totals",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("base_total", sa.Numeric(), nullable=False),
        sa.Column("commission_total", sa.Numeric(), nullable=False),
        sa.Column("line_count", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "person_id", "period_start", "currency", name=op.f("pk_commission_totals")
        ),
        schema="incentives",
    )
    op.create_table(
        "flat_rate_plans",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("rate", sa.Numeric(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_flat_rate_plans")),
        schema="incentives",
    )


def downgrade() -> None:
    drop_messaging_tables("incentives")
    op.drop_table("flat_rate_plans", schema="incentives")
    op.drop_table("commission_totals", schema="incentives")
    op.drop_table("commission_lines", schema="incentives")
