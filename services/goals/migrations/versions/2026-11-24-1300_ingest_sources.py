"""ingest: vendor settings, secret rotation, CRM object state, aliases, backfills, quarantine replay

Revision ID: goals_0007
Revises: goals_0006
Create Date: 2026-11-24 13:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.migrations import enable_tenant_rls

revision: str = "goals_0007"
down_revision: str | None = "goals_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "goals"
TS = postgresql.TIMESTAMP(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.add_column(
        "sources", sa.Column("settings", JSON, server_default="{}", nullable=False), schema=S
    )
    op.add_column(
        "activities",
        sa.Column("backfill", sa.Boolean(), server_default="false", nullable=False),
        schema=S,
    )
    op.add_column("quarantine", sa.Column("resolved_at", TS, nullable=True), schema=S)
    op.add_column("quarantine", sa.Column("resolved_by", sa.Text(), nullable=True), schema=S)
    op.add_column("quarantine", sa.Column("event_id", sa.Uuid(), nullable=True), schema=S)
    op.create_table(
        "retired_secrets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("retired_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "source_id", "secret", name=op.f("pk_retired_secrets")
        ),
        schema=S,
    )
    op.create_table(
        "crm_object_state",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("object_type", sa.Text(), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=False),
        sa.Column("properties", JSON, nullable=False),
        sa.Column("updated_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "source_id", "object_type", "object_id", name=op.f("pk_crm_object_state")
        ),
        schema=S,
    )
    op.create_table(
        "person_aliases",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("alias", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "source_id", "alias", name=op.f("pk_person_aliases")),
        schema=S,
    )
    op.create_table(
        "backfills",
        sa.Column("backfill_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("accepted", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("quarantined", sa.BigInteger(), nullable=False),
        sa.Column("started_by", sa.Text(), nullable=False),
        sa.Column("started_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("backfill_id", name=op.f("pk_backfills")),
        schema=S,
    )
    op.create_index(op.f("ix_backfills_tenant_id"), "backfills", ["tenant_id"], schema=S)
    # The webhook's cross-tenant source lookup also reads a source's retired secrets.
    enable_tenant_rls(S, "retired_secrets", system="select")
    for table in ("crm_object_state", "person_aliases", "backfills"):
        enable_tenant_rls(S, table)


def downgrade() -> None:
    raise NotImplementedError("goals_0007 is not reversible: restore from a backup instead")
