"""python -m goals.replay [--tenant ID]: rebuild every derived total from the system of record."""

from __future__ import annotations

import argparse
import asyncio
import logging
import uuid

from sqlalchemy import select

from goals.models import Tenant, messaging
from goals.settings import GoalsSettings
from goals.totals.replay import rebuild
from shared.db.engine import create_engine, session_factory
from shared.db.uow import unit_of_work

log = logging.getLogger("goals.replay")


async def main(tenant: uuid.UUID | None) -> None:
    settings = GoalsSettings()
    assert settings.database_url, "DATABASE_URL is not set"
    engine = create_engine(settings.database_url, application_name="goals-replay")
    sessions = session_factory(engine)
    try:
        async with unit_of_work(sessions, messaging, settings.topic_prefix) as uow:
            await uow.system()
            tenants = (
                [tenant] if tenant else list(await uow.session.scalars(select(Tenant.tenant_id)))
            )
        for tenant_id in tenants:
            async with unit_of_work(sessions, messaging, settings.topic_prefix) as uow:
                await uow.set_tenant(tenant_id)
                done = await rebuild(uow, tenant_id)
            log.info(
                "tenant %s: %d activities replayed, %d totals rows, %d goals announced",
                tenant_id,
                done.activities,
                done.totals,
                done.announced,
            )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenant", type=uuid.UUID, default=None)
    logging.basicConfig(level="INFO")
    asyncio.run(main(parser.parse_args().tenant))
