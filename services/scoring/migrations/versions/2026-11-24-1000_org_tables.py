"""teams and memberships (reporting lines for access decisions)

Revision ID: scoring_0004
Revises: scoring_0003
Create Date: 2026-11-24 10:00
"""

from collections.abc import Sequence

from alembic import op

from shared.db.migrations import create_org_tables, disable_tenant_rls

revision: str = "scoring_0004"
down_revision: str | None = "scoring_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_org_tables("scoring")


def downgrade() -> None:
    for table in ("memberships", "teams"):
        disable_tenant_rls("scoring", table)
        op.drop_table(table, schema="scoring")
