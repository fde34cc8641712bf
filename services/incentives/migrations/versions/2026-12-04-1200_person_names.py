"""people's names as goals announces them (payroll exports name the payee)

Revision ID: incentives_0008
Revises: incentives_0007
Create Date: 2026-12-04 12:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "incentives_0008"
down_revision: str | None = "incentives_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "incentives"


def upgrade() -> None:
    op.add_column("person_roles", sa.Column("name", sa.Text(), nullable=True), schema=S)


def downgrade() -> None:
    op.drop_column("person_roles", "name", schema=S)
