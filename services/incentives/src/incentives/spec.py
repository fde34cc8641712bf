"""How the incentives service plugs into a process (alone, or all in one)."""

from pathlib import Path

from strawberry.tools import merge_types

from incentives.appeals.endpoints import router as appeals_router
from incentives.commission.endpoints import router as commission_router
from incentives.commission.gql import IncentivesQuery
from incentives.commission.handlers import payments_handler
from incentives.fx.endpoints import router as fx_router
from incentives.models import audit_log, messaging, org
from incentives.people.service import export as people_export
from incentives.pools.endpoints import router as pools_router
from incentives.reports.endpoints import router as reports_router
from incentives.statements.endpoints import router as statements_router
from incentives.statements.gql import PayoutsQuery, PayQuery
from shared.events.topics import Topic
from shared.http.audit import audit_router
from shared.http.people import export_router
from shared.service import ConsumerSpec, ServiceSpec

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

SERVICE = ServiceSpec(
    name="incentives",
    messaging=messaging,
    org=org,
    migrations=MIGRATIONS,
    routers=(
        commission_router,
        statements_router,
        fx_router,
        pools_router,
        appeals_router,
        reports_router,
        audit_router("incentives", audit_log),
        export_router("incentives", messaging, people_export),
    ),
    query=merge_types("IncentivesServiceQuery", (IncentivesQuery, PayQuery, PayoutsQuery)),
    consumers=(
        ConsumerSpec(
            group="incentives",
            topics=(Topic.activities, Topic.progress, Topic.scores, Topic.org),
            handler=payments_handler,
        ),
    ),
)
