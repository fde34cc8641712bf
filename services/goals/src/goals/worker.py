"""Run the goals worker (outbox relay, KPI totals consumer): python -m goals.worker"""

import asyncio

from goals.settings import GoalsSettings
from goals.spec import SERVICE
from shared.service import run_worker

if __name__ == "__main__":
    asyncio.run(run_worker(GoalsSettings(), [SERVICE], "goals-worker"))
