"""pay plans as data, assignments, acceptances, credits, quotas, statements

Revision ID: incentives_0005
Revises: incentives_0004
Create Date: 2026-11-24 13:30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.migrations import enable_tenant_rls

revision: str = "incentives_0005"
down_revision: str | None = "incentives_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "incentives"
TS = postgresql.TIMESTAMP(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_plans")),
        schema=S,
    )
    op.create_table(
        "plan_assignments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("plan_key", sa.Text(), nullable=False),
        sa.Column("quota", sa.Numeric(), nullable=True),
        sa.Column("assigned_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "person_id", "valid_from", name=op.f("pk_plan_assignments")
        ),
        schema=S,
    )
    op.create_table(
        "plan_acceptances",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("accepted_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "person_id", "plan_id", name=op.f("pk_plan_acceptances")
        ),
        schema=S,
    )
    op.create_table(
        "credits",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("activity_id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("base", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("segment", sa.Text(), nullable=True),
        sa.Column("clawback_of", sa.Text(), nullable=True),
        sa.Column("payment_day", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", "person_id", name=op.f("pk_credits")),
        schema=S,
    )
    op.create_table(
        "quotas",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("period_kind", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("target", sa.Numeric(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "person_id",
            "metric",
            "period_kind",
            "period_start",
            name=op.f("pk_quotas"),
        ),
        schema=S,
    )
    op.create_table(
        "statements",
        sa.Column("statement_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("lines", JSON, nullable=False),
        sa.Column("total", sa.Numeric(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("prepared_by", sa.Text(), nullable=False),
        sa.Column("prepared_at", TS, server_default=NOW, nullable=False),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("approved_at", TS, nullable=True),
        sa.Column("paid_by", sa.Text(), nullable=True),
        sa.Column("paid_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("statement_id", name=op.f("pk_statements")),
        schema=S,
    )
    op.create_table(
        "final_grades",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("grade", sa.Text(), nullable=False),
        sa.Column("total", sa.Numeric(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "person_id", "period", name=op.f("pk_final_grades")),
        schema=S,
    )
    for table in (
        "final_grades",
        "plans",
        "plan_assignments",
        "plan_acceptances",
        "credits",
        "quotas",
        "statements",
    ):
        enable_tenant_rls(S, table)


def downgrade() -> None:
    raise NotImplementedError("incentives_0005 is not reversible: restore from a backup instead")
