"""audit log

Revision ID: incentives_0003
Revises: incentives_0002
Create Date: 2026-11-24 09:30
"""

from collections.abc import Sequence

from alembic import op

from shared.db.migrations import create_audit_table, disable_tenant_rls

revision: str = "incentives_0003"
down_revision: str | None = "incentives_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_table("incentives")


def downgrade() -> None:
    disable_tenant_rls("incentives", "audit_log")
    op.drop_table("audit_log", schema="incentives")
