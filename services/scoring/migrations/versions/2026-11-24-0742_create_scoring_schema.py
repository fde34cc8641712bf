"""create scoring schema

Revision ID: scoring_0001
Revises:
Create Date: 2026-11-24 07:42:05.552940
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from shared.db.migrations import grant_schema_to_app
from sqlalchemy.dialects import postgresql

revision: str = "scoring_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    grant_schema_to_app("scoring")
    op.create_table(
        "consumer_offsets",
        sa.Column("consumer_group", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "consumer_group", "topic", "partition", name=op.f("pk_consumer_offsets")
        ),
        schema="scoring",
        info={"infrastructure": "bus positions are per partition, not per tenant"},
    )
    op.create_table(
        "inbox",
        sa.Column("consumer_group", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "consumed_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("consumer_group", "event_id", name=op.f("pk_inbox")),
        schema="scoring",
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column(
            "headers", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        schema="scoring",
        info={"infrastructure": "relayed across tenants by the outbox relay"},
    )
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
    op.drop_table("scores", schema="scoring")
    op.drop_table("score_items", schema="scoring")
    op.drop_table("outbox", schema="scoring")
    op.drop_table("inbox", schema="scoring")
    op.drop_table("consumer_offsets", schema="scoring")
