"""The slice in the all-in-one process, on the embedded (PostgreSQL log) bus."""

from __future__ import annotations

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from tests.e2e.slice import run_slice
from tests.helpers import make_settings, running


async def test_vertical_slice_in_one_process(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        await run_slice({"goals": client, "scoring": client, "incentives": client}, settings)
