"""scorecard templates, scorecards, their items, 360° ratings and review requests

Revision ID: scoring_0005
Revises: scoring_0004
Create Date: 2026-11-24 13:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.migrations import enable_tenant_rls

revision: str = "scoring_0005"
down_revision: str | None = "scoring_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "scoring"
TS = postgresql.TIMESTAMP(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("items", JSON, nullable=False),
        sa.Column("group_weights", JSON, nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_templates")),
        schema=S,
    )
    op.create_table(
        "scorecards",
        sa.Column("scorecard_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("period_kind", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("template_key", sa.Text(), nullable=False),
        sa.Column("items", JSON, nullable=False),
        sa.Column("group_weights", JSON, nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("total", sa.Numeric(), nullable=True),
        sa.Column("grade", sa.Text(), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("scorecard_id", name=op.f("pk_scorecards")),
        sa.UniqueConstraint(
            "tenant_id",
            "person_id",
            "period_kind",
            "period_start",
            name="uq_scorecards_person_period",
        ),
        schema=S,
    )
    op.create_table(
        "scorecard_items",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("scorecard_id", sa.Uuid(), nullable=False),
        sa.Column("item_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("weight", sa.Numeric(), nullable=False),
        sa.Column("target", sa.Numeric(), nullable=True),
        sa.Column("actual", sa.Numeric(), nullable=True),
        sa.Column("ratio", sa.Numeric(), nullable=True),
        sa.Column("score", sa.Numeric(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("explanation", JSON, nullable=False),
        sa.Column("updated_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("scorecard_id", "item_key", name=op.f("pk_scorecard_items")),
        schema=S,
    )
    op.create_table(
        "ratings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("scorecard_id", sa.Uuid(), nullable=False),
        sa.Column("item_key", sa.Text(), nullable=False),
        sa.Column("rater_id", sa.Text(), nullable=False),
        sa.Column("rater_group", sa.Text(), nullable=False),
        sa.Column("score", sa.Numeric(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("submitted_at", TS, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("scorecard_id", "item_key", "rater_id", name=op.f("pk_ratings")),
        schema=S,
    )
    op.create_table(
        "review_requests",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("scorecard_id", sa.Uuid(), nullable=False),
        sa.Column("rater_id", sa.Text(), nullable=False),
        sa.Column("rater_group", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("requested_at", TS, server_default=NOW, nullable=False),
        sa.Column("reminded_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("scorecard_id", "rater_id", name=op.f("pk_review_requests")),
        schema=S,
    )
    for table in ("templates", "scorecards", "scorecard_items", "ratings", "review_requests"):
        enable_tenant_rls(S, table)


def downgrade() -> None:
    raise NotImplementedError("scoring_0005 is not reversible: restore from a backup instead")
