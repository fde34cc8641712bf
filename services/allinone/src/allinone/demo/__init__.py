"""Demo tenants.

- `make run`: a tiny tenant written straight into the database (`embedded`: `ensure_demo`).
- `make demo` (`python -m allinone.demo`): Northwind Trading Co., a realistic tenant seeded through
  the public API (`seed_demo`), and a simulated CRM posting to the real webhook (`stream_events`).
"""

from __future__ import annotations

from allinone.demo.company import DemoPerson, DemoTeam
from allinone.demo.embedded import DEMO_TENANT, Demo, ensure_demo, ensure_demo_data
from allinone.demo.seed import DemoTenant, SeedError, UnknownSource, seed_demo
from allinone.demo.simulate import Simulator
from allinone.demo.stream import StreamStats, stream_events

__all__ = [
    "DEMO_TENANT",
    "Demo",
    "DemoPerson",
    "DemoTeam",
    "DemoTenant",
    "SeedError",
    "Simulator",
    "StreamStats",
    "UnknownSource",
    "ensure_demo",
    "ensure_demo_data",
    "seed_demo",
    "stream_events",
]
