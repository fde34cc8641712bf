"""Alembic, one tree per service: its own schema and its own version table in that schema.

Migrations run as the schema owner; they grant the application role what it needs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.db.engine import async_url


def alembic_config(script_location: Path, owner_url: str, app_role: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", async_url(owner_url).replace("%", "%%"))
    cfg.attributes["app_role"] = app_role
    return cfg


async def upgrade(
    script_location: Path, owner_url: str, app_role: str, revision: str = "head"
) -> None:
    cfg = alembic_config(script_location, owner_url, app_role)
    await asyncio.to_thread(command.upgrade, cfg, revision)


def app_role() -> str:
    """The application role the running migration grants privileges to."""
    role = context.config.attributes.get("app_role")
    if role:
        return str(role)
    from shared.settings import BaseServiceSettings

    return BaseServiceSettings().database_app_role


def grant_schema_to_app(schema: str) -> None:
    """Let the application role use the schema's tables (present and future), nothing more."""
    role = app_role()
    op.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" '
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"'
    )
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT USAGE, SELECT ON SEQUENCES TO "{role}"'
    )
    op.execute(
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'
    )
    op.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"')


def run_env(target_metadata: MetaData, schema: str) -> None:
    """The body of every service's migrations/env.py."""

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:
        if type_ == "schema":
            return name == schema
        return True

    def do_run(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=include_name,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        url = context.config.get_main_option("sqlalchemy.url")
        if not url:
            from shared.settings import BaseServiceSettings

            url = BaseServiceSettings().owner_url
        assert url, "set DATABASE_OWNER_URL (or DATABASE_URL) to run migrations"
        engine = create_async_engine(async_url(url), poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
            await connection.commit()
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(
            url=context.config.get_main_option("sqlalchemy.url"),
            target_metadata=target_metadata,
            version_table_schema=schema,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run_async())


def create_messaging_tables(schema: str) -> None:
    """Version 1 of the outbox, inbox and consumer_offsets tables (see shared.db.messaging), and a
    statement trigger that wakes the outbox relay (LISTEN/NOTIFY) when a transaction writes to it."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    ts = postgresql.TIMESTAMP(timezone=True)
    op.create_table(
        "consumer_offsets",
        sa.Column("consumer_group", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", ts, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group", "topic", "partition", name="pk_consumer_offsets"),
        schema=schema,
    )
    op.create_table(
        "inbox",
        sa.Column("consumer_group", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("consumed_at", ts, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group", "event_id", name="pk_inbox"),
        schema=schema,
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("created_at", ts, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        schema=schema,
    )
    op.execute(
        f'CREATE FUNCTION "{schema}".notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$ '
        f"BEGIN PERFORM pg_notify('quotient_outbox_{schema}', ''); RETURN NULL; END $$"
    )
    op.execute(
        f'CREATE TRIGGER outbox_notify AFTER INSERT ON "{schema}".outbox '
        f'FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".notify_outbox()'
    )


def drop_messaging_tables(schema: str) -> None:
    op.execute(f'DROP TRIGGER IF EXISTS outbox_notify ON "{schema}".outbox')
    op.execute(f'DROP FUNCTION IF EXISTS "{schema}".notify_outbox()')
    for table in ("outbox", "inbox", "consumer_offsets"):
        op.drop_table(table, schema=schema)


TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
SYSTEM = "coalesce(current_setting('app.system', true), '') = 'on'"


def enable_tenant_rls(schema: str, table: str, *, system: str | None = None) -> None:
    """Row-level security (enabled and forced, so the owner is bound too): a transaction sees and
    writes only the rows of the tenant it set with set_config('app.tenant_id', …, true).

    ``system``: None, or "select" / "all" — also let infrastructure code that set app.system
    (the outbox relay, the webhook's source lookup) read, or read and write, across tenants."""
    name = f'"{schema}"."{table}"'
    op.execute(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {name} "
        f"USING (tenant_id = {TENANT}) WITH CHECK (tenant_id = {TENANT})"
    )
    if system == "select":
        op.execute(f"CREATE POLICY system_read ON {name} FOR SELECT USING ({SYSTEM})")
    elif system == "all":
        op.execute(f"CREATE POLICY system_access ON {name} USING ({SYSTEM}) WITH CHECK ({SYSTEM})")


def disable_tenant_rls(schema: str, table: str) -> None:
    name = f'"{schema}"."{table}"'
    for policy in ("tenant_isolation", "system_read", "system_access", "tenantless_rows"):
        op.execute(f"DROP POLICY IF EXISTS {policy} ON {name}")
    op.execute(f"ALTER TABLE {name} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {name} DISABLE ROW LEVEL SECURITY")


def enable_messaging_rls(schema: str) -> None:
    """The outbox is written per tenant and relayed across tenants; dead letters have no tenant.
    The inbox is claimed per tenant (dead letters under the nil tenant). consumer_offsets holds
    bus positions, not tenant data."""
    enable_tenant_rls(schema, "outbox", system="all")
    op.execute(
        f'CREATE POLICY tenantless_rows ON "{schema}".outbox FOR INSERT WITH CHECK (tenant_id IS NULL)'
    )
    enable_tenant_rls(schema, "inbox")


def create_audit_table(schema: str) -> None:
    """Version 1 of the audit log (see shared.db.audit), with row-level security."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    op.create_table(
        "audit_log",
        sa.Column("audit_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target_type", sa.Text(), nullable=False),
        sa.Column("target_key", sa.Text(), nullable=False),
        sa.Column("before", postgresql.JSONB(), nullable=True),
        sa.Column("after", postgresql.JSONB(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("audit_id", name="pk_audit_log"),
        schema=schema,
    )
    enable_tenant_rls(schema, "audit_log")


def create_org_tables(schema: str) -> None:
    """Version 1 of teams and memberships (see shared.org), with row-level security."""
    import sqlalchemy as sa

    op.create_table(
        "teams",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent_team_id", sa.Text(), nullable=True),
        sa.Column("manager_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "team_id", name="pk_teams"),
        schema=schema,
    )
    op.create_table(
        "memberships",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "person_id", "valid_from", name="pk_memberships"),
        schema=schema,
    )
    enable_tenant_rls(schema, "teams")
    enable_tenant_rls(schema, "memberships")
