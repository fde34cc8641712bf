"""CRM corrections of payments and refunds reach the credits (source of each credit, the
correction in force per record, the corrected shares)

Revision ID: incentives_0007
Revises: incentives_0006
Create Date: 2026-11-24 15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.migrations import enable_tenant_rls

revision: str = "incentives_0007"
down_revision: str | None = "incentives_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "incentives"


def upgrade() -> None:
    op.add_column("credits", sa.Column("source_id", sa.Uuid(), nullable=True), schema=S)
    op.create_index(
        "ix_credits_record", "credits", ["tenant_id", "activity_id", "source_id"], schema=S
    )
    op.create_table(
        "activity_corrections",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("refers_to", sa.Text(), nullable=False),
        sa.Column("order_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("original_event_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id", "source_id", "refers_to", name=op.f("pk_activity_corrections")
        ),
        schema=S,
    )
    op.create_table(
        "corrected_credits",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("refers_to", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("base", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("segment", sa.Text(), nullable=True),
        sa.Column("refund_of", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id", "source_id", "refers_to", "person_id", name=op.f("pk_corrected_credits")
        ),
        schema=S,
    )
    for table in ("activity_corrections", "corrected_credits"):
        enable_tenant_rls(S, table)


def downgrade() -> None:
    op.drop_table("corrected_credits", schema=S)
    op.drop_table("activity_corrections", schema=S)
    op.drop_index("ix_credits_record", "credits", schema=S)
    op.drop_column("credits", "source_id", schema=S)
