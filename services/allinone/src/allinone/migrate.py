"""Apply every migration tree (bus, goals, scoring, incentives) as the schema owner:
python -m allinone.migrate (the embedded server is started when DATABASE_URL is not set)."""

from __future__ import annotations

import asyncio
import logging

from allinone.app import SERVICES
from shared.runtime import provision_embedded
from shared.service import migrate
from shared.settings import BaseServiceSettings


async def main() -> None:
    settings = BaseServiceSettings()
    server = await provision_embedded(settings)
    try:
        await migrate(settings, SERVICES)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    logging.basicConfig(level="INFO")
    asyncio.run(main())
