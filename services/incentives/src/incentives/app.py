"""The incentives api process: `python -m incentives.api` (or uvicorn incentives.app:create_app --factory)."""

from fastapi import FastAPI

from incentives.settings import IncentivesSettings
from incentives.spec import SERVICE
from shared.service import create_app as create_service_app


def create_app(settings: IncentivesSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or IncentivesSettings(), [SERVICE], title="Quotient incentives"
    )
