"""grade bands and forced distribution, calibrations, appeals, interviews

Revision ID: scoring_0006
Revises: scoring_0005
Create Date: 2026-11-24 13:30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.migrations import enable_tenant_rls

revision: str = "scoring_0006"
down_revision: str | None = "scoring_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "scoring"
TS = postgresql.TIMESTAMP(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "scoring_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("bands", JSON, nullable=False),
        sa.Column("forced_distribution", sa.Boolean(), nullable=False),
        sa.Column("quotas", JSON, nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_scoring_settings")),
        schema=S,
    )
    op.create_table(
        "calibrations",
        sa.Column("calibration_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("report", JSON, nullable=False),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("approved_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("calibration_id", name=op.f("pk_calibrations")),
        schema=S,
    )
    op.create_table(
        "appeals",
        sa.Column("appeal_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("scorecard_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("item_key", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("corrected_value", sa.Numeric(), nullable=True),
        sa.Column("effect", JSON, nullable=True),
        sa.Column("submitted_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("appeal_id", name=op.f("pk_appeals")),
        schema=S,
    )
    op.create_table(
        "interviews",
        sa.Column("scorecard_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("manager_id", sa.Text(), nullable=False),
        sa.Column("report", JSON, nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("interview_on", sa.Date(), nullable=True),
        sa.Column("self_review", sa.Text(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("actions", JSON, nullable=False),
        sa.Column("person_signed_at", TS, nullable=True),
        sa.Column("manager_signed_at", TS, nullable=True),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("scorecard_id", name=op.f("pk_interviews")),
        schema=S,
    )
    for table in ("scoring_settings", "calibrations", "appeals", "interviews"):
        enable_tenant_rls(S, table)


def downgrade() -> None:
    raise NotImplementedError("scoring_0006 is not reversible: restore from a backup instead")
