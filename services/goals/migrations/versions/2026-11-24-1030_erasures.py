"""erasures: recognise an erased person's later events

Revision ID: goals_0005
Revises: goals_0004
Create Date: 2026-11-24 10:30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.migrations import disable_tenant_rls, enable_tenant_rls

revision: str = "goals_0005"
down_revision: str | None = "goals_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("subject_hash", sa.Text(), nullable=False),
        sa.Column("pseudonym", sa.Text(), nullable=False),
        sa.Column("erased_by", sa.Text(), nullable=False),
        sa.Column(
            "erased_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "subject_hash", name=op.f("pk_erasures")),
        schema="goals",
    )
    enable_tenant_rls("goals", "erasures")


def downgrade() -> None:
    disable_tenant_rls("goals", "erasures")
    op.drop_table("erasures", schema="goals")
