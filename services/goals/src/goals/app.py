"""The goals api process: `python -m goals.api` (or uvicorn goals.app:create_app --factory)."""

from fastapi import FastAPI

from goals.settings import GoalsSettings
from goals.spec import SERVICE
from shared.service import create_app as create_service_app


def create_app(settings: GoalsSettings | None = None) -> FastAPI:
    return create_service_app(settings or GoalsSettings(), [SERVICE], title="Quotient goals")
