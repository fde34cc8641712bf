"""row-level security on every tenant table

Revision ID: incentives_0002
Revises: incentives_0001
Create Date: 2026-11-24 09:00
"""

from collections.abc import Sequence

from shared.db.migrations import disable_tenant_rls, enable_messaging_rls, enable_tenant_rls

revision: str = "incentives_0002"
down_revision: str | None = "incentives_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "incentives"
TABLES = [("flat_rate_plans", None), ("commission_lines", None), ("commission_totals", None)]


def upgrade() -> None:
    enable_messaging_rls(SCHEMA)
    for table, system in TABLES:
        enable_tenant_rls(SCHEMA, table, system=system)


def downgrade() -> None:
    for table, _ in TABLES:
        disable_tenant_rls(SCHEMA, table)
    disable_tenant_rls(SCHEMA, "inbox")
    disable_tenant_rls(SCHEMA, "outbox")
