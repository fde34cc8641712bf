"""rate table, survey scores, team attainment and pools, pay-line appeals, people's roles

Revision ID: incentives_0006
Revises: incentives_0005
Create Date: 2026-11-24 14:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.migrations import enable_tenant_rls

revision: str = "incentives_0006"
down_revision: str | None = "incentives_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "incentives"
TS = postgresql.TIMESTAMP(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.create_table(
        "fx_rates",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("base", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("rate", sa.Numeric(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "currency", "base", "valid_from", name=op.f("pk_fx_rates")
        ),
        schema=S,
    )
    op.create_table(
        "survey_scores",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("score", sa.Numeric(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", name=op.f("pk_survey_scores")),
        schema=S,
    )
    op.create_table(
        "team_attainment",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("period_kind", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("attainment", sa.Numeric(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "team_id",
            "metric",
            "period_kind",
            "period_start",
            name=op.f("pk_team_attainment"),
        ),
        schema=S,
    )
    op.create_table(
        "team_pools",
        sa.Column("pool_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("allocation", JSON, nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("allocated_by", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("pool_id", name=op.f("pk_team_pools")),
        schema=S,
    )
    op.create_table(
        "pay_appeals",
        sa.Column("appeal_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("component", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("correction", sa.Numeric(), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("submitted_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("appeal_id", name=op.f("pk_pay_appeals")),
        schema=S,
    )
    op.create_table(
        "person_roles",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "person_id", name=op.f("pk_person_roles")),
        schema=S,
    )
    for table in (
        "fx_rates",
        "survey_scores",
        "team_attainment",
        "team_pools",
        "pay_appeals",
        "person_roles",
    ):
        enable_tenant_rls(S, table)


def downgrade() -> None:
    raise NotImplementedError("incentives_0006 is not reversible: restore from a backup instead")
