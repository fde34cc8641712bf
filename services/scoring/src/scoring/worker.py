"""Run the scoring worker (outbox relay, score consumer): python -m scoring.worker"""

import asyncio

from scoring.settings import ScoringSettings
from scoring.spec import SERVICE
from shared.service import run_worker

if __name__ == "__main__":
    asyncio.run(run_worker(ScoringSettings(), [SERVICE], "scoring-worker"))
