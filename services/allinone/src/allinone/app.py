"""One FastAPI app with the three services' routes, one merged GraphQL schema, and every worker."""

from __future__ import annotations

from fastapi import FastAPI

from allinone.dashboard import mount_dashboard
from goals.spec import SERVICE as GOALS
from incentives.spec import SERVICE as INCENTIVES
from scoring.spec import SERVICE as SCORING
from shared.service import create_app as create_service_app
from shared.settings import BaseServiceSettings

SERVICES = (GOALS, SCORING, INCENTIVES)


def create_app(settings: BaseServiceSettings | None = None, *, demo: bool = False) -> FastAPI:
    from allinone.demo import ensure_demo

    settings = settings or BaseServiceSettings()
    app = create_service_app(
        settings,
        SERVICES,
        title="Quotient",
        run_workers=True,
        auto_migrate=True,
        on_ready=ensure_demo if demo else None,
    )
    return mount_dashboard(app)  # the static rep dashboard at /dashboard/
