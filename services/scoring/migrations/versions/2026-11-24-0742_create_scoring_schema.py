"""create scoring schema

Revision ID: scoring_0001
Revises:
Create Date: 2026-11-24 07:42:05.552940
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

revision: str = "scoring_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    grant_schema_to_app("scoring")
    create_messaging_tables("scoring")
    op.create_table(
        "score_items",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("weight", sa.Numeric(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("cap", sa.Numeric(), nullable=False),
        sa.Column("floor", sa.Numeric(), nullable=False),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "metric", name=op.f("pk_score_items")),
        schema="scoring",
    )
    op.create_table(
        "scores",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("weight", sa.Numeric(), nullable=False),
        sa.Column("target", sa.Numeric(), nullable=False),
        sa.Column("actual", sa.Numeric(), nullable=False),
        sa.Column("ratio", sa.Numeric(), nullable=False),
        sa.Column("score", sa.Numeric(), nullable=False),
        sa.Column("explanation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "person_id", "period_start", "metric", name=op.f("pk_scores")
        ),
        schema="scoring",
    )


def downgrade() -> None:
    drop_messaging_tables("scoring")
    op.drop_table("scores", schema="scoring")
    op.drop_table("score_items", schema="scoring")
