"""The scoring api process: `python -m scoring.api` (or uvicorn scoring.app:create_app --factory)."""

from fastapi import FastAPI

from scoring.settings import ScoringSettings
from scoring.spec import SERVICE
from shared.service import create_app as create_service_app


def create_app(settings: ScoringSettings | None = None) -> FastAPI:
    return create_service_app(settings or ScoringSettings(), [SERVICE], title="Quotient scoring")
