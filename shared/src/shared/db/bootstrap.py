"""Create the roles and the database from a superuser connection (development, tests, compose).

Two roles from the start: the schema owner (runs migrations) and the application role, which owns
no tables, is not a superuser and cannot bypass row-level security.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url

from shared.db.engine import asyncpg_dsn


@dataclass(frozen=True)
class DatabaseUrls:
    owner_url: str
    app_url: str
    # The superuser's URL for this database (bypasses row-level security): tooling and tests only.
    admin_url: str | None = None


def _quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def url_for(admin_url: str, *, user: str, password: str | None, database: str) -> str:
    url = make_url(asyncpg_dsn(admin_url)).set(username=user, password=password, database=database)
    return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


async def ensure_roles(
    admin_url: str,
    *,
    owner_role: str = "quotient_owner",
    app_role: str = "quotient_app",
    password: str | None = None,
) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        for role, extra in ((owner_role, "CREATEDB"), (app_role, "NOCREATEDB")):
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            verb = "ALTER" if exists else "CREATE"
            pw = f" PASSWORD '{password}'" if password else ""
            await conn.execute(
                f"{verb} ROLE {_quote(role)} LOGIN NOSUPERUSER NOBYPASSRLS {extra}{pw}"
            )
    finally:
        await conn.close()


async def ensure_database(
    admin_url: str,
    database: str,
    *,
    owner_role: str = "quotient_owner",
    app_role: str = "quotient_app",
    password: str | None = None,
    template: str | None = None,
) -> DatabaseUrls:
    """Create the database (owned by the owner role) unless it exists; return both URLs."""
    await ensure_roles(admin_url, owner_role=owner_role, app_role=app_role, password=password)
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            tpl = f" TEMPLATE {_quote(template)}" if template else ""
            await conn.execute(
                f"CREATE DATABASE {_quote(database)} OWNER {_quote(owner_role)}{tpl}"
            )
    finally:
        await conn.close()
    admin = make_url(asyncpg_dsn(admin_url))
    db_conn = await asyncpg.connect(
        asyncpg_dsn(admin.set(database=database).render_as_string(hide_password=False))
    )
    try:
        await db_conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        await db_conn.execute(f"GRANT CONNECT ON DATABASE {_quote(database)} TO {_quote(app_role)}")
    finally:
        await db_conn.close()
    return DatabaseUrls(
        owner_url=url_for(admin_url, user=owner_role, password=password, database=database),
        app_url=url_for(admin_url, user=app_role, password=password, database=database),
        admin_url=url_for(
            admin_url, user=admin.username or "postgres", password=admin.password, database=database
        ),
    )


async def drop_database(admin_url: str, database: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote(database)} WITH (FORCE)")
    finally:
        await conn.close()
