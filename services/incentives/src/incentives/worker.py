"""Run the incentives worker (outbox relay, commission consumer): python -m incentives.worker"""

import asyncio

from incentives.settings import IncentivesSettings
from incentives.spec import SERVICE
from shared.service import run_worker

if __name__ == "__main__":
    asyncio.run(run_worker(IncentivesSettings(), [SERVICE], "incentives-worker"))
