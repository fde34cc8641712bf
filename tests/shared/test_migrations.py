"""Every service's models match its migrations (`alembic check`), and the roles are as promised."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from allinone.app import SERVICES
from shared.db.bootstrap import DatabaseUrls
from shared.db.migrations import alembic_config
from shared.runtime import SHARED_MIGRATIONS


@pytest.mark.parametrize("tree", ["bus", *(s.name for s in SERVICES)])
async def test_models_match_migrations(database: DatabaseUrls, tree: str) -> None:
    location = (
        SHARED_MIGRATIONS
        if tree == "bus"
        else next(s.migrations for s in SERVICES if s.name == tree)
    )
    cfg = alembic_config(location, database.owner_url, "quotient_app")
    await asyncio.to_thread(command.check, cfg)  # raises when autogenerate would emit anything


async def test_application_role_owns_nothing_and_cannot_bypass_rls(database: DatabaseUrls) -> None:
    engine = create_async_engine(database.app_url)
    try:
        async with engine.connect() as conn:
            role = (
                await conn.execute(
                    text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
                )
            ).one()
            owned = (
                await conn.execute(
                    text("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
                )
            ).scalar_one()
            tables = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_tables WHERE schemaname IN ('goals', 'scoring', 'incentives', 'bus')"
                    )
                )
            ).scalar_one()
        assert tuple(role) == (False, False)
        assert owned == 0
        assert tables > 10
    finally:
        await engine.dispose()


async def test_every_service_table_carries_a_tenant_id(database: DatabaseUrls) -> None:
    """tenant_id on every table from the first migration (infrastructure tables say why not)."""
    from goals.models import Base as G
    from incentives.models import Base as I
    from scoring.models import Base as S

    missing = [
        t.fullname
        for base in (G, S, I)
        for t in base.metadata.sorted_tables
        if "tenant_id" not in t.c and "infrastructure" not in t.info
    ]
    assert missing == []
