"""The slice with an api and a worker process per service, over real Kafka and PostgreSQL."""

from __future__ import annotations

import httpx

from tests.e2e.processes import SERVICES, Fleet
from tests.e2e.slice import run_slice


async def test_vertical_slice_across_processes_over_kafka(fleet: Fleet) -> None:
    clients = {s: httpx.AsyncClient(base_url=fleet.url(s), timeout=30) for s in SERVICES}
    try:
        await run_slice(clients, fleet.settings)
    except AssertionError:
        for name in fleet.procs:
            print(f"--- {name}\n{fleet.log(name)}")
        raise
    finally:
        for c in clients.values():
            await c.aclose()
