"""goals, KPI catalog, people, periods and totals per owner and period

Revision ID: goals_0006
Revises: goals_0005
Create Date: 2026-11-24 12:00

The running totals become per owner (person, team, company) and period kind (year, half,
quarter, month, week) and are derived from ``facts`` (originals as corrected). They are rebuilt
from the system of record (``activities``) with ``python -m goals.replay``; the old per-person
monthly totals are dropped. Targets become goals (person × month), set by hand.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.migrations import disable_tenant_rls, enable_tenant_rls

revision: str = "goals_0006"
down_revision: str | None = "goals_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "goals"
TS = postgresql.TIMESTAMP(timezone=True)
AMOUNT = sa.Numeric()
TABLES = (
    "facts",
    "corrections",
    "totals",
    "distinct_keys",
    "late_activities",
    "closed_periods",
    "metrics",
    "templates",
    "people",
    "goals",
    "goal_versions",
    "proposals",
)


def _now() -> sa.Column[object]:
    return sa.Column("updated_at", TS, server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "facts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Text(), nullable=True),
        sa.Column("occurred_at", TS, nullable=True),
        sa.Column("local_day", sa.Date(), nullable=True),
        sa.Column("deal_id", sa.Text(), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("correction_key", sa.Text(), nullable=True),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        _now(),
        sa.PrimaryKeyConstraint("tenant_id", "source_id", "external_id", name=op.f("pk_facts")),
        schema=S,
    )
    op.create_index(
        "ix_facts_tenant_type_day", "facts", ["tenant_id", "type", "local_day"], schema=S
    )
    op.create_index("ix_facts_tenant_request", "facts", ["tenant_id", "request_id"], schema=S)
    op.create_index("ix_facts_tenant_deal", "facts", ["tenant_id", "deal_id"], schema=S)
    op.create_table(
        "corrections",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("refers_to", sa.Text(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("order_key", sa.Text(), nullable=False),
        sa.Column("replacement", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        _now(),
        sa.PrimaryKeyConstraint("tenant_id", "source_id", "refers_to", name=op.f("pk_corrections")),
        schema=S,
    )

    def owner_period() -> list[sa.Column[object]]:
        return [
            sa.Column("tenant_id", sa.Uuid(), nullable=False),
            sa.Column("owner_kind", sa.Text(), nullable=False),
            sa.Column("owner_id", sa.Text(), nullable=False),
            sa.Column("metric", sa.Text(), nullable=False),
            sa.Column("period_kind", sa.Text(), nullable=False),
            sa.Column("period_start", sa.Date(), nullable=False),
        ]

    key = ["tenant_id", "owner_kind", "owner_id", "metric", "period_kind", "period_start"]
    op.create_table(
        "totals",
        *owner_period(),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", AMOUNT, nullable=False),
        sa.Column("event_count", sa.BigInteger(), nullable=False),
        _now(),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_totals")),
        schema=S,
    )
    op.create_index(
        "ix_totals_board",
        "totals",
        ["tenant_id", "metric", "period_kind", "period_start", "owner_kind"],
        schema=S,
    )
    op.create_table(
        "distinct_keys",
        *owner_period(),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("refs", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*key, "value", name=op.f("pk_distinct_keys")),
        schema=S,
    )
    op.create_table(
        "late_activities",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("period_kind", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("activity_id", sa.Text(), nullable=False),
        sa.Column("recorded_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "event_id", "period_kind", "period_start", name=op.f("pk_late_activities")
        ),
        schema=S,
    )
    op.create_table(
        "closed_periods",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("period_kind", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("closed_by", sa.Text(), nullable=False),
        sa.Column("closed_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "period_kind", "period_start", name=op.f("pk_closed_periods")
        ),
        schema=S,
    )
    op.create_table(
        "metrics",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        _now(),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_metrics")),
        schema=S,
    )
    op.create_table(
        "templates",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("items", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("copied_from", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.Text(), nullable=False),
        _now(),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_templates")),
        schema=S,
    )
    op.create_table(
        "people",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("manager_id", sa.Text(), nullable=True),
        sa.Column("active_from", sa.Date(), nullable=True),
        sa.Column("active_to", sa.Date(), nullable=True),
        _now(),
        sa.PrimaryKeyConstraint("tenant_id", "person_id", name=op.f("pk_people")),
        schema=S,
    )
    op.create_table(
        "goals",
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("dimension", sa.Text(), nullable=False),
        sa.Column("owner_kind", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("period_kind", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("target", AMOUNT, nullable=False),
        sa.Column("set_by_hand", sa.Boolean(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("split_rule", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        _now(),
        sa.PrimaryKeyConstraint("goal_id", name=op.f("pk_goals")),
        sa.UniqueConstraint(
            "tenant_id",
            "metric",
            "dimension",
            "owner_kind",
            "owner_id",
            "period_kind",
            "period_start",
            name="uq_goals_one_per_owner_metric_period",
        ),
        schema=S,
    )
    op.create_index(op.f("ix_goals_tenant_id"), "goals", ["tenant_id"], schema=S)
    op.create_index(op.f("ix_goals_parent_id"), "goals", ["parent_id"], schema=S)
    op.create_index(
        "ix_goals_owner_period",
        "goals",
        ["tenant_id", "owner_kind", "owner_id", "period_start"],
        schema=S,
    )
    op.create_table(
        "goal_versions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("target", AMOUNT, nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.Column("changed_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("goal_id", "version", name=op.f("pk_goal_versions")),
        schema=S,
    )
    op.create_table(
        "proposals",
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("proposed_target", AMOUNT, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.Text(), nullable=False),
        sa.Column("proposed_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_proposals")),
        schema=S,
    )
    op.create_index(op.f("ix_proposals_tenant_id"), "proposals", ["tenant_id"], schema=S)
    for table in TABLES:
        enable_tenant_rls(S, table)
    # Targets become hand-set person × month goals, with their first version.
    op.execute(
        """
        INSERT INTO goals.goals (goal_id, tenant_id, metric, dimension, owner_kind, owner_id,
            period_kind, period_start, period_end, target, set_by_hand, version, updated_by)
        SELECT gen_random_uuid(), tenant_id, metric, '', 'person', person_id, 'month',
            period_start, (period_start + interval '1 month' - interval '1 day')::date, value,
            true, 1, updated_by
        FROM goals.targets
        """
    )
    op.execute(
        """
        INSERT INTO goals.goal_versions (tenant_id, goal_id, version, target, change, changed_by)
        SELECT tenant_id, goal_id, 1, target, 'created', updated_by FROM goals.goals
        """
    )
    for table in ("kpi_totals", "targets"):
        disable_tenant_rls(S, table)
        op.drop_table(table, schema=S)


def downgrade() -> None:
    raise NotImplementedError("goals_0006 is not reversible: restore from a backup instead")
