"""What a process holds while it runs: settings, the engine, sessions, the bus.

The embedded default (no DATABASE_URL) starts the embedded PostgreSQL, creates the roles and the
database, and points the settings at them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.bus.base import Bus
from shared.db.bootstrap import ensure_database
from shared.db.embedded import EmbeddedPostgres
from shared.db.engine import asyncpg_dsn, create_engine, session_factory
from shared.db.notify import PgNotifier
from shared.settings import BaseServiceSettings

log = logging.getLogger(__name__)

SHARED_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


async def provision_embedded(settings: BaseServiceSettings) -> EmbeddedPostgres | None:
    """Start the embedded PostgreSQL when no DATABASE_URL is given; fill in the URLs."""
    if settings.database_url:
        return None
    server = EmbeddedPostgres(settings.data_dir, settings.embedded_postgres_port)
    admin_url = server.start()
    urls = await ensure_database(admin_url, "quotient", app_role=settings.database_app_role)
    settings.database_url = urls.app_url
    settings.database_owner_url = urls.owner_url
    return server


def make_bus(settings: BaseServiceSettings, engine: AsyncEngine, client_id: str) -> Bus:
    if settings.bus_kind == "kafka":
        from shared.bus.kafka import KafkaBus

        assert settings.kafka_bootstrap_servers, (
            "KAFKA_BOOTSTRAP_SERVERS is required for the Kafka bus"
        )
        return KafkaBus(
            settings.kafka_bootstrap_servers,
            partitions=settings.kafka_partitions,
            replication_factor=settings.kafka_replication_factor,
            client_id=client_id,
        )
    from shared.bus.embedded import EmbeddedBus

    assert settings.database_url
    return EmbeddedBus(engine, asyncpg_dsn(settings.database_url))


@dataclass
class Runtime:
    settings: BaseServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: Bus
    notifier: PgNotifier
    dsn: str
    extras: dict[str, object] = field(default_factory=dict)

    @classmethod
    async def open(cls, settings: BaseServiceSettings, name: str) -> Runtime:
        assert settings.database_url, "DATABASE_URL is not set"
        engine = create_engine(
            settings.database_url, pool_size=settings.database_pool_size, application_name=name
        )
        bus = make_bus(settings, engine, name)
        await bus.start()
        dsn = asyncpg_dsn(settings.database_url)
        notifier = getattr(bus, "notifier", None) or PgNotifier(dsn)
        return cls(settings, engine, session_factory(engine), bus, notifier, dsn)

    async def close(self) -> None:
        await self.bus.stop()
        await self.notifier.close()
        await self.engine.dispose()

    async def check_database(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
